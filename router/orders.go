package router

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/socket"
)

func (s *Server) registerOrderRoutes(r gin.IRoutes) {
	r.POST("/order", s.loggedIn(s.placeOrder))
	r.PATCH("/order-receive/:order_id", s.loggedIn(s.acceptOrder))
	r.GET("/orders", s.loggedIn(s.listOrders))
}

type orderItemResponse struct {
	MenuID int64  `json:"menu_id"`
	Name   string `json:"name"`
	Price  int64  `json:"price"`
	Count  int    `json:"count"`
}

type orderResponse struct {
	OrderID        int64               `json:"order_id"`
	ClientID       int64               `json:"client_id"`
	ClientNickname string              `json:"client_nickname"`
	StoreName      string              `json:"store_name"`
	OwnerID        int64               `json:"owner_id"`
	StoreID        int64               `json:"store_id"`
	Status         int                 `json:"status"`
	TotalPrice     int64               `json:"total_price"`
	CreatedAt      string              `json:"created_at"`
	UpdatedAt      string              `json:"updated_at"`
	Items          []orderItemResponse `json:"items"`
}

func (s *Server) placeOrder(c *gin.Context, p models.Principal) {
	if wait := take(c.Request.Context(), s.limits.orders, "orders:"+p.Room(), "too many orders; wait a minute and try again"); wait != nil {
		s.tooMany(c, wait)
		return
	}
	ctx, err := originContext(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	storeID, err := body.int("store_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	items, err := body.list("items")
	if err != nil {
		s.fail(c, err)
		return
	}
	lines := make([]models.OrderLine, len(items))
	for i, item := range items {
		if lines[i].MenuID, err = item.int("menu_id"); err != nil {
			s.fail(c, badRequest("items[%d]: %v", i, err))
			return
		}
		if lines[i].Count, err = item.int("count"); err != nil {
			s.fail(c, badRequest("items[%d]: %v", i, err))
			return
		}
	}
	// The order writer handed the order and its alert to the notifier,
	// in commit order (see New).
	order, _, err := s.db.PlaceOrder(ctx, p, storeID, lines)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, placedResponse{
		OrderID: order.ID, OwnerID: order.OwnerID, Status: order.Status, StoreID: order.StoreID, TotalPrice: order.TotalPrice,
	})
}

// placedResponse and acceptedResponse are the answers of the order hot
// path, as structs rather than gin.H: a map is sorted and boxed field by
// field on every answer. Their fields are in the sorted order gin.H's keys
// were written in, so the bytes are the same.
type placedResponse struct {
	OrderID    int64 `json:"order_id"`
	OwnerID    int64 `json:"owner_id"`
	Status     int   `json:"status"`
	StoreID    int64 `json:"store_id"`
	TotalPrice int64 `json:"total_price"`
}

type acceptedResponse struct {
	ClientID int64 `json:"client_id"`
	OrderID  int64 `json:"order_id"`
	Status   int   `json:"status"`
}

func (s *Server) acceptOrder(c *gin.Context, p models.Principal) {
	orderID, err := pathID(c, "order_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, err := originContext(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	order, _, err := s.db.AcceptOrder(ctx, p, orderID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, acceptedResponse{ClientID: order.ClientID, OrderID: order.ID, Status: order.Status})
}

// originHeader names the socket of the device making a change, as Laravel
// Echo's X-Socket-ID: the ORDER_UPDATED the change sends to the acting
// party's devices skips that socket, which has the answer to its request.
// Alerts are never skipped. The project's pages send it once connected.
const originHeader = "X-Socket-Id"

// originContext is the request's context, marked with the socket its
// X-Socket-Id names (models.WithOrigin), if it names one. A value that is
// no Socket.IO socket id is refused rather than ignored: the client that
// sends it has a bug.
func originContext(c *gin.Context) (context.Context, error) {
	ctx := c.Request.Context()
	sid := c.GetHeader(originHeader)
	if sid == "" {
		return ctx, nil
	}
	if !socket.IsSocketID(sid) {
		return nil, badRequest("%s must be a Socket.IO socket id (socket.id of a connected socket)", originHeader)
	}
	return models.WithOrigin(ctx, sid), nil
}

func (s *Server) listOrders(c *gin.Context, p models.Principal) {
	orders, err := s.db.ListOrders(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]orderResponse, len(orders))
	for i, o := range orders {
		out[i] = orderResponse{
			OrderID: o.ID, ClientID: o.ClientID, OwnerID: o.OwnerID, StoreID: o.StoreID,
			Status: o.Status, TotalPrice: o.TotalPrice,
			CreatedAt: socket.FormatTime(o.CreatedAt), UpdatedAt: socket.FormatTime(o.UpdatedAt),
			Items: make([]orderItemResponse, len(o.Items)),
		}
		if o.Store != nil {
			out[i].StoreName = o.Store.Name
		}
		if o.Client != nil {
			out[i].ClientNickname = o.Client.Nickname
		}
		for j, it := range o.Items {
			out[i].Items[j] = orderItemResponse{MenuID: it.MenuID, Name: it.Name, Price: it.Price, Count: it.Count}
		}
	}
	c.JSON(http.StatusOK, out)
}
