//go:build windows || ((linux || freebsd || openbsd || netbsd) && !android)

package osnotify

import (
	"fmt"
	"os"
	"strings"
)

// iconFile returns the path of a private file holding the icon, written
// on the first call; "" when the notifier has no icon.
func (n *Notifier) iconFile() (string, error) {
	if len(n.icon) == 0 || n.iconPath != "" {
		return n.iconPath, nil
	}
	// CreateTemp makes a new file only the user may read (0600).
	f, err := os.CreateTemp("", fileSafe(n.appID)+"-icon-*.png")
	if err != nil {
		return "", fmt.Errorf("osnotify: write the icon: %w", err)
	}
	_, err = f.Write(n.icon)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("osnotify: write the icon: %w", err)
	}
	n.iconPath = f.Name()
	return n.iconPath, nil
}

// fileSafe keeps the letters, digits, dots and dashes of s for a file
// name; "app" if nothing is left.
func fileSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return -1
	}, s)
	if s == "" {
		return "app"
	}
	return s
}
