package cli

import (
	"errors"
	"io"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/secrets"
)

// connect returns the control API of the hub that runs on cfg's data
// folder (running: true), or, with none running, of the data folder opened
// here (changes take effect when the hub next starts). close releases it.
func connect(cfg *config.Config, path string) (api control.API, running bool, close func(), err error) {
	if c, err := control.Dial(cfg.DataDirPath()); err == nil {
		return c, true, c.Close, nil
	} else if !errors.Is(err, control.ErrNoHub) {
		return nil, false, nil, err
	}
	h, err := hub.OpenOffline(cfg, hub.Options{ConfigPath: path, Secrets: secrets.New(), LogStderr: io.Discard})
	if err != nil {
		return nil, false, nil, err
	}
	return h, false, h.Close, nil
}

// describe turns a control error into the CLI's message and exit code:
// invalid requests and missing objects are the caller's (exit 2).
func describe(err error) error {
	var ce *control.Error
	if errors.As(err, &ce) {
		switch ce.Kind {
		case control.Invalid, control.NotFound:
			return usageErr("%s", ce.Error())
		}
		if ce.Detail != "" {
			return errors.New(ce.Message + " (" + ce.Detail + ")")
		}
	}
	return err
}
