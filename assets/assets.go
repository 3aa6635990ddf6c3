// Package assets holds the embedded icons of mCONNECT Hub: the application
// icon (also referenced by FyneApp.toml) and the three tray icons whose
// colour shows the hub's overall health at a glance.
//
// The PNGs are drawn by ./internal/gen; run go generate after changing it. It
// also draws what the installers take from here: hicolor/NxN/apps/mconnect.png
// (the Linux icon theme sizes) and mconnect.ico (Windows).
package assets

//go:generate go run ./internal/gen -dir .

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

var (
	//go:embed icon.png
	iconPNG []byte
	//go:embed tray-ok.png
	trayOKPNG []byte
	//go:embed tray-warning.png
	trayWarningPNG []byte
	//go:embed tray-error.png
	trayErrorPNG []byte
)

// AppIcon is the 256x256 application icon.
func AppIcon() fyne.Resource { return fyne.NewStaticResource("icon.png", iconPNG) }

// TrayOK is the green tray icon: every component is fine.
func TrayOK() fyne.Resource { return fyne.NewStaticResource("tray-ok.png", trayOKPNG) }

// TrayWarning is the amber tray icon: at least one component has a warning.
func TrayWarning() fyne.Resource {
	return fyne.NewStaticResource("tray-warning.png", trayWarningPNG)
}

// TrayError is the red tray icon: at least one component needs a person.
func TrayError() fyne.Resource { return fyne.NewStaticResource("tray-error.png", trayErrorPNG) }
