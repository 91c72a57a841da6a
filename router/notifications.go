package router

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/socket"
)

func (s *Server) registerNotificationRoutes(r gin.IRoutes) {
	r.GET("/notifications", s.loggedIn(s.listNotifications))
	r.POST("/notifications/read", s.loggedIn(s.markNotificationsRead))
}

type notificationResponse struct {
	socket.Alert
	Event string `json:"event"`
	Read  bool   `json:"read"`
}

// listNotifications answers the caller's alerts with id > after, oldest
// first, a page of at most 100; or, with ?latest=N, the newest N. The
// X-Unread-Count header carries the unread total.
func (s *Server) listNotifications(c *gin.Context, p models.Principal) {
	after, err := queryInt(c, "after")
	if err != nil {
		s.fail(c, err)
		return
	}
	latest, err := queryInt(c, "latest")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	var list []models.Notification
	if latest > 0 {
		list, err = s.db.Latest(ctx, p, int(min(latest, models.NotificationsLimit)))
	} else {
		list, err = s.db.NotificationsAfter(ctx, p, after)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	unread, err := s.db.UnreadCount(ctx, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]notificationResponse, len(list))
	for i, n := range list {
		out[i] = notificationResponse{Alert: socket.AlertFor(n), Event: n.Event, Read: n.ReadAt != nil}
	}
	c.Header("X-Unread-Count", strconv.FormatInt(unread, 10))
	c.JSON(http.StatusOK, out)
}

func (s *Server) markNotificationsRead(c *gin.Context, p models.Principal) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	upTo, err := body.int("up_to_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if upTo < 0 {
		s.fail(c, badRequest("up_to_id must be ≥ 0"))
		return
	}
	if err := s.db.MarkRead(c.Request.Context(), p, upTo); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// queryInt reads an optional whole-number query parameter ≥ 0.
func queryInt(c *gin.Context, name string) (int64, error) {
	raw, ok := c.GetQuery(name)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("%s must be a whole number ≥ 0", name)
	}
	return n, nil
}
