package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// process is a program the harness started (Traefik, oauth2-proxy) and the
// outcome of waiting for it.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// startProcess starts bin with args in dir, its standard output and error
// written to dir/logName. The kernel kills it if this process dies first.
func startProcess(dir, logName, bin string, args ...string) (*process, error) {
	out, err := os.Create(filepath.Join(dir, logName))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir // Traefik reads local plugins from ./plugins-local
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = ProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the program has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL if the program is still running after
// grace, and waits for it to exit. It reports whether it had to kill it.
func (p *process) stop(grace time.Duration) (killed bool) {
	if p.exited() {
		return false
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
		return true
	}
}
