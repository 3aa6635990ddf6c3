package hub

import (
	"path/filepath"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/retention"
	"github.com/mesi/mconnect/connectors/connector"
)

// wireRetention adds the daily retention sweep and the free-space watch
// (app/retention) as a supervised component.
func (h *Hub) wireRetention() {
	r := h.cfg.Retention
	days := func(p *int, def int) time.Duration {
		return time.Duration(config.Days(p, def)) * 24 * time.Hour
	}
	pct := config.DefaultLowDiskPercent
	if r.LowDiskPercent != nil {
		pct = *r.LowDiskPercent
	}
	p := retention.Policy{
		Orders:         days(r.OrdersDays, config.DefaultOrdersDays),
		Results:        days(r.ResultsDays, config.DefaultResultsDays),
		Archive:        days(r.ArchiveDays, config.DefaultArchiveDays),
		Batch:          r.BatchSize,
		LowDiskBytes:   int64(config.Days(r.LowDiskMB, config.DefaultLowDiskMB)) << 20,
		LowDiskPercent: pct,
	}
	var archives []string
	for _, e := range h.registry.Endpoints(h.cfg) {
		if e.Kind == connector.EndpointFolder && e.Value != "" {
			archives = append(archives, filepath.Join(e.Value, "archive"))
		}
	}
	h.retention = retention.New(h.store, p, retention.Options{DataDir: h.dataDir, ArchiveDirs: archives, Health: h.health, Log: h.log})
	h.add(retention.ComponentRetention, h.retention.Run)
}

// Retention reports the data folder's disk usage, the free space, the last
// retention sweep and when the next one runs (the Dashboard's About and the
// support bundle). Its zero value means the hub was opened offline.
// storage is the retention status for control.Status (nil without a sweeper).
func (h *Hub) storage() *retention.Status {
	if h.retention == nil {
		return nil
	}
	st := h.retention.Status()
	return &st
}

func (h *Hub) Retention() retention.Status {
	if h.retention == nil {
		return retention.Status{}
	}
	return h.retention.Status()
}
