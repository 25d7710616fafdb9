package redis

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Answers of a fakeServer's script that are not RESP.
const (
	closeConn = "<close>" // close the connection; after a partial reply, once written
	hang      = "<hang>"  // never answer
)

// fakeServer is a scripted Redis server for the failures a real one will
// not produce on demand: it answers the n-th command of its c-th connection
// (both from 0) with answer(c, n, command), a RESP reply or one of
// closeConn and hang, and logs every command it reads.
type fakeServer struct {
	ln     net.Listener
	answer func(c, n int, command string) string

	mu     sync.Mutex
	conns  []net.Conn
	log    []string // "c/n COMMAND ARGS..."
	closed bool
	wg     sync.WaitGroup
}

// newFakeServer starts a fakeServer on a loopback port, closed when t ends.
func newFakeServer(t *testing.T, answer func(c, n int, command string) string) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, answer: answer}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() { f.close() })
	return f
}

// url returns the fake's redis:// URL.
func (f *fakeServer) url() string {
	return "redis://" + f.ln.Addr().String()
}

// accept serves connections until the listener is closed.
func (f *fakeServer) accept() {
	defer f.wg.Done()
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			_ = nc.Close()
			return
		}
		c := len(f.conns)
		f.conns = append(f.conns, nc)
		f.mu.Unlock()
		f.wg.Add(1)
		go f.serve(c, nc)
	}
}

// serve answers the commands of connection c.
func (f *fakeServer) serve(c int, nc net.Conn) {
	defer f.wg.Done()
	r := bufio.NewReader(nc)
	for n := 0; ; n++ {
		rep, err := readReply(r, newBudget(), 0)
		if err != nil {
			return
		}
		words := make([]string, 0, len(rep.elems))
		for _, e := range rep.elems {
			words = append(words, string(e.str))
		}
		command := strings.Join(words, " ")
		f.mu.Lock()
		f.log = append(f.log, strconv.Itoa(c)+"/"+strconv.Itoa(n)+" "+command)
		f.mu.Unlock()
		answer := f.answer(c, n, command)
		switch {
		case strings.HasSuffix(answer, closeConn):
			_, _ = nc.Write([]byte(strings.TrimSuffix(answer, closeConn)))
			_ = nc.Close()
			return
		case answer == hang:
		default:
			if _, err := nc.Write([]byte(answer)); err != nil {
				return
			}
		}
	}
}

// commands returns the log of the commands read so far.
func (f *fakeServer) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// close stops the server and waits for its goroutines.
func (f *fakeServer) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	f.closed = true
	for _, nc := range f.conns {
		_ = nc.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
