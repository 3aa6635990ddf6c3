//go:build windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/windows/registry"
)

// New returns the manager of this OS: the HKCU Run value.
func New(exe string, args ...string) Manager { return NewRun(hkcu{}, exe, args...) }

// hkcu is Registry over the real HKEY_CURRENT_USER.
type hkcu struct{}

func notExist(err error) error {
	if errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("%w: %v", fs.ErrNotExist, err)
	}
	return err
}

func (hkcu) String(key, name string) (string, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, key, registry.QUERY_VALUE)
	if err != nil {
		return "", notExist(err)
	}
	defer k.Close()
	v, typ, err := k.GetStringValue(name)
	if err != nil {
		return "", notExist(err)
	}
	if typ == registry.EXPAND_SZ {
		if x, err := registry.ExpandString(v); err == nil {
			v = x
		}
	}
	return v, nil
}

func (hkcu) Binary(key, name string) ([]byte, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, key, registry.QUERY_VALUE)
	if err != nil {
		return nil, notExist(err)
	}
	defer k.Close()
	v, _, err := k.GetBinaryValue(name)
	return v, notExist(err)
}

func (hkcu) SetString(key, name, value string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue(name, value)
}

func (hkcu) Delete(key, name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}
