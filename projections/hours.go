package projections

import (
	"math"
	"strconv"
	"time"
)

// Hours is a duration in hours, rounded to one decimal. It is written as a
// JSON number with one decimal, never in exponent form.
type Hours float64

// HoursOf returns d in hours, rounded to one decimal.
func HoursOf(d time.Duration) Hours { return Hours(math.Round(d.Hours()*10) / 10) }

// MarshalJSON writes h with one decimal: 3.3, 0.0, 76.1.
func (h Hours) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(h), 'f', 1, 64), nil
}
