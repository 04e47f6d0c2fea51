package audit

import (
	"context"
	"database/sql"
	"time"
)

// DefaultRateWindow is the span of recent activity BatchRate looks at when
// given no window: long enough to smooth a slot's retries and breaks, short
// enough to follow a line that was reconfigured.
const DefaultRateWindow = time.Hour

// BatchRate returns the batch's recent build rate in passed units per hour:
// the passed build and rework attempts that ended in the window before the
// batch's latest end (not before now, so a batch resumed the next morning
// keeps yesterday's rate), as (passes - 1) over the span from the first of
// them to the last. It is 0 while there is too little to say: fewer than
// two passes in the window, or less than a minute between them.
//
// Attempts are read newest first and the scan stops at those that started
// two windows before the latest end, so the cost follows the window, not
// the size of the batch.
func (s *Store) BatchRate(ctx context.Context, batch string, window time.Duration) (float64, error) {
	if window <= 0 {
		window = DefaultRateWindow
	}
	var rate float64
	err := s.read(ctx, "rate of batch "+batch, func(t *sql.Tx) error {
		id, err := s.batchDBID(ctx, t, batch)
		if err != nil {
			return err
		}
		rows, err := s.txQuery(ctx, t, `SELECT a.started_at, e.ended_at FROM attempts a JOIN attempt_ends e ON e.attempt_id = a.id
			WHERE a.batch_id = ? AND a.kind != 'retest' AND e.outcome = 'pass' ORDER BY a.id DESC`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		var ends []time.Time
		var last time.Time
		for rows.Next() {
			var started, ended string
			if err := rows.Scan(&started, &ended); err != nil {
				return err
			}
			if !last.IsZero() && parseStamp(started).Before(last.Add(-2*window)) {
				break
			}
			end := parseStamp(ended)
			ends = append(ends, end)
			if end.After(last) {
				last = end
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rate = rateOf(ends, last, window)
		return nil
	})
	return rate, err
}

// rateOf is the rate of the ends within window before last.
func rateOf(ends []time.Time, last time.Time, window time.Duration) float64 {
	from := last.Add(-window)
	n, first := 0, last
	for _, e := range ends {
		if e.Before(from) {
			continue
		}
		n++
		if e.Before(first) {
			first = e
		}
	}
	span := last.Sub(first)
	if n < 2 || span < time.Minute {
		return 0
	}
	return float64(n-1) / span.Hours()
}
