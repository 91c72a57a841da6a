// Package static embeds the files served as-is: the Socket.IO v4 browser
// client (copied from the npm package socket.io-client, MIT, see
// socket.io-client.LICENSE), and the pages' CSS and scripts.
package static

import "embed"

// FS holds the files, at its root.
//
//go:embed app.js app.css favicon.svg socket.io.js socket.io.js.map socket.io.min.js socket.io.min.js.map socket.io-client.LICENSE
var FS embed.FS
