package models

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// A checkpoint fsyncs the log and the database file: on a slow virtual
// disk 1.5 to 10 ms each, and at 1,000 orders/s about a hundred a second,
// together a fifth of the time. A goroutine in a system call keeps its
// processor (P) until the runtime's monitor thread takes it back, which it
// does only on its next look, up to 10 ms later when it has long found
// nothing to take. With one P (a server on one core) an fsync stopped
// every goroutine: an execution trace showed goroutines ready to run for
// 14 ms while 0.6 ms of others ran (bench/README.md, "Twentieth round").
//
// So the server checkpoints from a process of its own, its own binary run
// again (WithCheckpointProcess, ServeCheckpointsIfAsked): the fsyncs block only
// that process, and the server's goroutine waits on a pipe, parked, its P
// free for the others. Both the rounds and the rest after each
// (checkpoint.go) go there: the writer waits for the rest as it waited in
// fsync, but requests and deliveries run meanwhile.

// CheckpointProcessEnv, set to a SQLite DSN, makes a process started by
// WithCheckpointProcess serve checkpoints of that database
// (ServeCheckpoints) instead of doing what it otherwise would.
const CheckpointProcessEnv = "ORDERBELL_CHECKPOINT_DSN"

// Option configures Open.
type Option func(*options)

type options struct {
	checkpointProcess bool
}

// WithCheckpointProcess has a SQLite file's checkpoints run in a process of
// their own: this program run again with CheckpointProcessEnv set, which
// its main (or TestMain) hands to ServeCheckpointsIfAsked. Without it, they
// run on a connection of the server's own.
func WithCheckpointProcess() Option {
	return func(o *options) { o.checkpointProcess = true }
}

// thisProgram is the command that runs this program again, its errors
// going where ours do.
func thisProgram() *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	cmd := exec.Command(self)
	cmd.Stderr = os.Stderr
	return cmd
}

// ServeCheckpointsIfAsked belongs at the start of main (and of a TestMain
// standing in for it): when CheckpointProcessEnv is set, this process is a
// checkpoint process started by WithCheckpointProcess, and it
// serves checkpoints on its standard input and output until the server
// closes the pipe, then reports true. An error ends it with status 1.
func ServeCheckpointsIfAsked() bool {
	dsn, ok := os.LookupEnv(CheckpointProcessEnv)
	if !ok {
		return false
	}
	// A Ctrl-C reaches the whole process group: the server ends this
	// process itself, after its last order.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	if err := ServeCheckpoints(dsn, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "orderbell checkpoint process:", err)
		os.Exit(1)
	}
	return true
}

// ServeCheckpoints opens dsn's database and runs a PASSIVE checkpoint for
// every byte read from in, answering each with a line on out: "ok", or the
// error. It returns nil when in ends (the server closed the pipe, or
// exited).
func ServeCheckpoints(dsn string, in io.Reader, out io.Writer) error {
	db, err := openCheckpointConn(context.Background(), dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	r, w := bufio.NewReader(in), bufio.NewWriter(out)
	for {
		if _, err := r.ReadByte(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		answer := "ok"
		if err := checkpoint(db); err != nil {
			answer = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		if _, err := w.WriteString(answer + "\n"); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// checkpointProcess is the server's end of a ServeCheckpoints process. It
// runs both the checkpointer's rounds and the rest after each.
type checkpointProcess struct {
	mu   sync.Mutex // one checkpoint at a time
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	dead error     // once set, every checkpoint fails with it
	reap sync.Once // waits for the process to exit, once
}

// startCheckpointProcess starts cmd serving checkpoints of dsn's database
// and waits for its first.
func startCheckpointProcess(cmd *exec.Cmd, dsn string) (*checkpointProcess, error) {
	cmd.Env = append(cmd.Environ(), CheckpointProcessEnv+"="+dsn)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start checkpoint process: %w", err)
	}
	p := &checkpointProcess{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if err := p.checkpoint(); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// checkpoint has the process run one checkpoint and returns its outcome. A
// process that is gone fails this and every later checkpoint: the log is
// then left to the writer's own auto-checkpoint (walBackstopPages).
func (p *checkpointProcess) checkpoint() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead != nil {
		return p.dead
	}
	var line string
	_, err := p.in.Write([]byte{'c'})
	if err == nil {
		line, err = p.out.ReadString('\n')
	}
	if err != nil {
		p.dead = fmt.Errorf("checkpoint process: %w", err)
		go p.wait() // gone or going: not left a zombie until Close
		return p.dead
	}
	if line = strings.TrimSuffix(line, "\n"); line != "ok" {
		return fmt.Errorf("checkpoint process: %s", line)
	}
	return nil
}

func (p *checkpointProcess) round() error { return p.checkpoint() }
func (p *checkpointProcess) rest() error  { return p.checkpoint() }

// close ends the process (its input ends, it closes its connection and
// exits) and waits for it.
func (p *checkpointProcess) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.in.Close()
	p.wait()
	if p.dead == nil {
		p.dead = errors.New("checkpoint process: closed")
	}
}

// wait returns once the process has exited; it is waited for once, however
// many call.
func (p *checkpointProcess) wait() {
	p.reap.Do(func() { _ = p.cmd.Wait() })
}
