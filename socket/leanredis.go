package socket

import (
	"context"
	"errors"
	"strings"

	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
)

// takeRemote hands the lean sockets of this node what other nodes
// broadcast through Redis. The library's Redis adapter delivers those to
// its own sockets only, and only for rooms it has locally; this reads the
// same channel on a subscription of its own, decodes with the adapter's
// own parser, skips this node's own messages (by the adapter's uid), and
// broadcasts to the lean sockets as a local emit would. It runs until
// Close.
func (l *lean) takeRemote(r *Redis) error {
	ra, ok := l.s.io.Sockets().Adapter().(adapter.RedisAdapter)
	if !ok {
		return errors.New("the namespace's adapter is not the Redis adapter")
	}
	channel := r.key + "#" + l.s.io.Sockets().Name() + "#"
	ctx, cancel := context.WithCancel(context.Background())
	sub := r.client.PSubscribe(ctx, channel+"*")
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		cancel()
		_ = sub.Close()
		return err
	}
	go func() {
		<-l.stop
		cancel()
		_ = sub.Close()
	}()
	go func() {
		uid, parser := ra.Uid(), ra.Parser()
		for msg := range sub.Channel() {
			if !strings.HasPrefix(msg.Channel, channel) {
				continue
			}
			var p *adapter.Packet
			if err := parser.Decode([]byte(msg.Payload), &p); err != nil || p == nil || p.Uid == uid || p.Packet == nil || p.Opts == nil {
				continue
			}
			data, ok := p.Packet.Data.([]any)
			if !ok || len(data) != 2 {
				continue
			}
			event, ok := data[0].(string)
			if !ok {
				continue
			}
			except := ""
			if len(p.Opts.Except) > 0 {
				except = string(p.Opts.Except[0])
			}
			for _, room := range p.Opts.Rooms {
				l.broadcast(string(room), except, event, data[1])
			}
		}
	}()
	return nil
}
