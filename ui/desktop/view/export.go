package view

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
)

// exportDiagnostics asks where to write a support bundle and whether
// patient data may go in (not by default), then writes it through the hub
// with a progress bar, and says what it holds.
func exportDiagnostics(env *tabEnv) {
	if env.api == nil || env.win == nil {
		return
	}
	include := widget.NewCheck(txtExportPatientData(), nil)
	body := container.NewVBox(wrapped(txtExportText()), include)
	dialog.ShowCustomConfirm(txtExportTitle(), txtExportChoose(), txtCancel(), body, func(ok bool) {
		if !ok {
			return
		}
		save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			path := w.URI().Path()
			w.Close()
			runExport(env, control.DiagRequest{Out: path, IncludePatientData: include.Checked})
		}, env.win)
		save.SetFileName("mconnect-support-" + env.now().Format("2006-01-02-1504") + ".zip")
		save.Show()
	}, env.win)
}

func runExport(env *tabEnv, req control.DiagRequest) {
	bar := widget.NewProgressBarInfinite()
	prog := dialog.NewCustomWithoutButtons(txtExportRunning(), container.NewVBox(wrapped(req.Out), bar), env.win)
	prog.Show()
	env.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		res, err := env.api.ExportDiagnostics(ctx, req)
		cancel()
		env.do(func() {
			bar.Stop()
			prog.Hide()
			if err != nil {
				m := newMessageBox()
				m.problem(err)
				dialog.ShowCustom(txtExportFailed(), txtPairClose(), m.root, env.win)
				return
			}
			var missing []string
			for _, s := range res.Sections {
				if s.Problem != "" {
					missing = append(missing, s.Name)
				}
			}
			text := txtExportDone(res.Path)
			if len(missing) > 0 {
				text += "\n" + txtExportMissing(strings.Join(missing, ", "))
			}
			l := wrapped(text)
			l.Selectable = true
			dialog.ShowCustom(txtExportTitle(), txtPairClose(), l, env.win)
		})
	})
}
