package config

import (
	"path/filepath"
	"time"

	"github.com/mesi/mconnect/connectors/catalogue"
)

// Example returns a complete, valid configuration for the EHR with the
// given catalogue ID, with every folder and the database under dataDir
// (absolute; empty means the OS user data dir).
func Example(ehr, dataDir string) (*Config, error) {
	prof, err := catalogue.Lookup(ehr)
	if err != nil {
		return nil, err
	}
	if dataDir == "" {
		dataDir = DefaultDataDir()
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	ex := filepath.Join(dataDir, "exchange")
	c := &Config{
		EHR: prof.ID,
		Hub: HubConfig{Name: "mCONNECT Hub", DataDir: dataDir},
		Device: DeviceConfig{
			Listen:         ":8443",
			MaxReportMB:    50,
			PairingCodeTTL: Duration(10 * time.Minute),
		},
	}
	switch prof.Inbound {
	case catalogue.InMLLP:
		c.HL7 = &HL7Config{
			Listen:       ":2575",
			Whitelist:    []string{"127.0.0.1/32", "192.168.0.0/16"},
			ResultHost:   "127.0.0.1:2576",
			ReceivingApp: prof.HL7.ReceivingApp,
			RaceMap:      map[string]string{"2106-3": "white", "2054-5": "black", "2028-9": "asian", "2131-1": "other"},
			Mapping: Mapping{
				MeasurementMap: map[string]string{"ECG": "ECG", "ABI": "ABI", "TBI": "TBI", "SPO2": "SPO2", "BP": "BP"},
			},
		}
	case catalogue.InHL7Files:
		c.WEDA = &WEDAConfig{
			InboundDir:  filepath.Join(ex, "weda-in"),
			ResultURL:   "https://weda.example.invalid/api/mesi/results",
			TokenHeader: "Authorization",
			Token:       "keyring:" + prof.ID + "-api-token",
			Mapping: Mapping{
				MeasurementMap: map[string]string{"ECG": "ECG", "ABI": "ABI"},
			},
		}
	case catalogue.InGDTFiles:
		c.GDT = &GDTConfig{
			InboundDir: filepath.Join(ex, prof.ID+"-in"),
			ResultDir:  filepath.Join(ex, prof.ID+"-out"),
			PDFDir:     filepath.Join(ex, prof.ID+"-out"),
			EHRID:      prof.GDT.EHRID,
			HubID:      prof.GDT.HubID,
			Version:    prof.GDT.Version,
			Charset:    prof.GDT.Charset,
			Naming:     "fixed",
			FTP: FTPConfig{
				Enabled:      false,
				Listen:       "0.0.0.0:2121",
				User:         prof.ID,
				Password:     "keyring:" + prof.ID + "-ftp-password",
				PassivePorts: "30000-30009",
			},
			Mapping: Mapping{
				MeasurementMap: map[string]string{"EKG01": "ECG", "ABI01": "ABI"},
			},
		}
	}
	c.ApplyDefaults()
	return c, nil
}
