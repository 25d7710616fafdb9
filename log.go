package gatehouse

import (
	"fmt"
	"io"
	"sync"
)

// logger writes Gatehouse's log lines where Traefik collects a plugin's
// output: standard output is Traefik's debug log, standard error its error log.
type logger struct {
	prefix string
	mu     sync.Mutex
	debug  io.Writer
	err    io.Writer
}

// newLogger returns a logger for the middleware called name.
func newLogger(name string, debug, err io.Writer) *logger {
	return &logger{prefix: "gatehouse[" + name + "]: ", debug: debug, err: err}
}

func (l *logger) debugf(format string, args ...any) { l.write(l.debug, format, args) }

func (l *logger) errorf(format string, args ...any) { l.write(l.err, format, args) }

func (l *logger) write(w io.Writer, format string, args []any) {
	line := l.prefix + fmt.Sprintf(format, args...) + "\n"
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(w, line)
}
