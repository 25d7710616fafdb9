package testclock

import (
	"testing"
	"time"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	c := New()
	if !c.Now().Equal(Epoch) {
		t.Fatalf("New().Now() = %v, want %v", c.Now(), Epoch)
	}
	c.Advance(90 * time.Second)
	c.Advance(-30 * time.Second)
	if want := Epoch.Add(time.Minute); !c.Now().Equal(want) {
		t.Errorf("Now after +90s and -30s = %v, want %v", c.Now(), want)
	}
}
