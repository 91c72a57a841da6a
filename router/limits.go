package router

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ulule/limiter/v3"

	"github.com/orderbell/orderbell/models"
)

// Limits bound what one account or address may do. Rates are ulule's
// "<count>-<S|M|H|D>" form, e.g. "60-M"; an empty rate is no limit.
type Limits struct {
	// LoginFailuresPerAccount counts failed logins of one account; past
	// it, that account's logins wait out the period, so nobody can go on
	// guessing its password. Only failures count: someone guessing can
	// hold an account back for at most the period.
	LoginFailuresPerAccount string
	// LoginsPerAddress counts every login attempt from one address.
	LoginsPerAddress string
	// OrdersPerClient counts orders placed by one customer.
	OrdersPerClient string
}

// DefaultLimits are generous for people and tight for scripts.
var DefaultLimits = Limits{LoginFailuresPerAccount: "10-H", LoginsPerAddress: "60-M", OrdersPerClient: "60-M"}

// limiters holds one limiter per limit; nil means unlimited.
type limiters struct {
	loginFailures, loginAddress, orders *limiter.Limiter
}

func newLimiters(l Limits, store limiter.Store) (limiters, error) {
	make := func(name, formatted string) (*limiter.Limiter, error) {
		if formatted == "" {
			return nil, nil
		}
		rate, err := limiter.NewRateFromFormatted(formatted)
		if err != nil {
			return nil, fmt.Errorf("%s limit %q: %w", name, formatted, err)
		}
		return limiter.New(store, rate), nil
	}
	var out limiters
	var err error
	if out.loginFailures, err = make("login failures", l.LoginFailuresPerAccount); err != nil {
		return out, err
	}
	if out.loginAddress, err = make("logins per address", l.LoginsPerAddress); err != nil {
		return out, err
	}
	out.orders, err = make("orders", l.OrdersPerClient)
	return out, err
}

// errTooMany is a limit reached; retryAfter says for how long.
type errTooMany struct {
	message    string
	retryAfter time.Duration
}

func (e *errTooMany) Error() string { return e.message }

// take counts one event against key; past the limit it says how long to wait.
// A limiter whose store fails lets the request through: a Redis outage
// must not stop orders.
func take(ctx context.Context, l *limiter.Limiter, key, message string) *errTooMany {
	if l == nil {
		return nil
	}
	lc, err := l.Get(ctx, key)
	if err != nil || !lc.Reached {
		return nil
	}
	return &errTooMany{message: message, retryAfter: time.Until(time.Unix(lc.Reset, 0))}
}

// reached reports, without counting, whether key has used up its limit.
func reached(ctx context.Context, l *limiter.Limiter, key, message string) *errTooMany {
	if l == nil {
		return nil
	}
	lc, err := l.Peek(ctx, key)
	if err != nil || lc.Remaining > 0 {
		return nil
	}
	return &errTooMany{message: message, retryAfter: time.Until(time.Unix(lc.Reset, 0))}
}

// tooMany answers 429 with Retry-After in whole seconds.
func (s *Server) tooMany(c *gin.Context, e *errTooMany) {
	seconds := int(math.Ceil(max(e.retryAfter, time.Second).Seconds()))
	c.Header("Retry-After", strconv.Itoa(seconds))
	if wantsHTML(c) {
		s.redirectWithFlash(c, "/login", fmt.Sprintf("시도가 너무 많습니다. %d초 후에 다시 시도해 주세요.", seconds))
		return
	}
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"message": e.message})
}

func accountKey(role models.Role, email string) string {
	return "login:" + string(role) + ":" + strings.ToLower(strings.TrimSpace(email))
}
