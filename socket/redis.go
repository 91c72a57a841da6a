package socket

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	rds "github.com/redis/go-redis/v9"
	redisadapter "github.com/zishang520/socket.io/adapters/redis/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	socketio "github.com/zishang520/socket.io/servers/socket/v3"
)

// DefaultRedisKey is the channel prefix Node's @socket.io/redis-adapter
// uses too, so orderbell and Node socket.io servers can share one Redis
// while a fleet migrates.
const DefaultRedisKey = "socket.io"

// Redis is the connection the Socket.IO Redis adapter publishes and
// subscribes on.
type Redis struct {
	client  *rds.Client
	adapter socketio.AdapterConstructor
	key     string // the channel prefix
}

// OpenRedis connects to the Redis at url (redis://[user:pass@]host:port/db)
// and builds the adapter that carries every emit to every node.
func OpenRedis(ctx context.Context, url, key string, log *slog.Logger) (*Redis, error) {
	opts, err := rds.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	client := rds.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("reach Redis: %w", err)
	}
	rc := redisadapter.NewRedisClient(context.Background(), client)
	_ = rc.On("error", func(args ...any) { log.Warn("redis adapter", "err", fmt.Sprint(args...)) })
	if key == "" {
		key = DefaultRedisKey
	}
	opt := &adapter.RedisAdapterOptions{}
	opt.SetKey(key)
	return &Redis{client: client, adapter: &adapter.RedisAdapterBuilder{Redis: rc, Opts: opt}, key: key}, nil
}

// Client is the Redis client, for other state nodes share (rate limits).
func (r *Redis) Client() *rds.Client { return r.client }

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close closes the connection.
func (r *Redis) Close() error { return r.client.Close() }
