package models_test

import (
	"testing"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
)

// BenchmarkOrderFlow is one order's database work in the benchmark's http
// flow: PlaceOrder, then AcceptOrder (two changes, each with its alert),
// on every engine. "serial" is one order at a time (a commit per change);
// "parallel" keeps 16 orders in flight per CPU, so the writer batches them
// as it does under load.
//
//	go test ./models -run '^$' -bench OrderFlow -benchmem
func BenchmarkOrderFlow(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			db := dbtest.Open(b, e.URL(b))
			f := newFixture(b, db)
			flow := func() {
				o, _, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 2}})
				if err != nil {
					b.Error(err)
					return
				}
				if _, _, err := db.AcceptOrder(ctx, f.owner, o.ID); err != nil {
					b.Error(err)
				}
			}
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					flow()
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						flow()
					}
				})
			})
		})
	}
}
