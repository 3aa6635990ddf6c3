//go:build windows

package osnotify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// runTimeout bounds one PowerShell run.
const runTimeout = 10 * time.Second

// The environment variables that carry the notification to the script.
// Title, body and icon path never become script text, so no quote, $,
// backtick or line break in them can change what the script does.
const (
	envScript = "MCONNECT_NOTIFY_SCRIPT"
	envTitle  = "MCONNECT_NOTIFY_TITLE"
	envBody   = "MCONNECT_NOTIFY_BODY"
	envIcon   = "MCONNECT_NOTIFY_ICON"
)

// toastScript shows a toast with the title, the body and, when there is
// one, the icon; %s is the app ID, checked by validAppID.
const toastScript = `$ErrorActionPreference = 'Stop'
$title = [string]$env:` + envTitle + `
$body = [string]$env:` + envBody + `
$icon = [string]$env:` + envIcon + `
[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] > $null
if ($icon) { $kind = [Windows.UI.Notifications.ToastTemplateType]::ToastImageAndText02 } else { $kind = [Windows.UI.Notifications.ToastTemplateType]::ToastText02 }
$template = [Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent($kind)
$toastXml = [xml] $template.GetXml()
$toastXml.GetElementsByTagName('text')[0].AppendChild($toastXml.CreateTextNode($title)) > $null
$toastXml.GetElementsByTagName('text')[1].AppendChild($toastXml.CreateTextNode($body)) > $null
if ($icon) { $toastXml.GetElementsByTagName('image')[0].SetAttribute('src', ([System.Uri]$icon).AbsoluteUri) > $null }
$xml = New-Object Windows.Data.Xml.Dom.XmlDocument
$xml.LoadXml($toastXml.OuterXml)
$toast = [Windows.UI.Notifications.ToastNotification]::new($xml)
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('%s').Show($toast)
`

// launch is the command PowerShell runs: the script, from the
// environment too, so that the command line is always the same.
const launch = "Invoke-Expression $env:" + envScript

// system has nothing to keep open between calls here.
type system struct{}

func (system) close() {}

// send runs PowerShell with the toast script, in a hidden window. The
// desktop shows the toast under the app ID; appName is not used.
func (n *Notifier) send(title, body string) error {
	icon, iconErr := n.iconFile()
	args, env, err := toastCommand(n.appID, title, body, icon)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, powerShell(), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true, CreationFlags: windows.CREATE_NO_WINDOW}
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no end within %v: %w", runTimeout, ctx.Err())
		}
		if msg := firstLine(out.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return fmt.Errorf("osnotify: PowerShell toast: %w", err)
	}
	return iconErr
}

// toastCommand returns PowerShell's arguments and what it needs added to
// the environment to show the notification.
func toastCommand(appID, title, body, icon string) (args, env []string, err error) {
	if !validAppID(appID) {
		return nil, nil, fmt.Errorf("osnotify: app ID %q: only letters, digits and dots may be in it", appID)
	}
	args = []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", launch}
	env = []string{
		envScript + "=" + fmt.Sprintf(toastScript, appID),
		envTitle + "=" + withoutNUL(title),
		envBody + "=" + withoutNUL(body),
		envIcon + "=" + icon,
	}
	return args, env, nil
}

// validAppID tells whether id is made of ASCII letters, digits and dots
// only, so that it is safe inside the script's quotes.
func validAppID(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.') {
			return false
		}
	}
	return true
}

// withoutNUL drops NUL characters, which the environment cannot hold.
func withoutNUL(s string) string { return strings.ReplaceAll(s, "\x00", "") }

// powerShell is Windows PowerShell in the system folder, not whatever a
// program of that name first found on PATH would be.
func powerShell() string {
	if root := os.Getenv("SystemRoot"); root != "" {
		return filepath.Join(root, "System32", "WindowsPowerShell", "v1.0", "powershell.exe")
	}
	return "powershell.exe"
}

// firstLine is the first line of PowerShell's output that is not blank
// (an error's message comes first, where it was raised after), cut to a
// length an error message can carry.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	line = strings.TrimSpace(line)
	if len(line) > 300 {
		line = strings.ToValidUTF8(line[:300], "") + "..."
	}
	return line
}
