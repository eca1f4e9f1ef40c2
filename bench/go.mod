module github.com/wsclient/wsclient/bench

go 1.26.0

replace github.com/wsclient/wsclient => ../

require (
	github.com/coder/websocket v1.8.15
	github.com/gobwas/httphead v0.1.0
	github.com/gobwas/ws v1.5.0
	github.com/gorilla/websocket v1.5.3
	github.com/klauspost/cpuid/v2 v2.4.2
	github.com/lxzan/gws v1.8.9
	github.com/wsclient/wsclient v0.0.0-00010101000000-000000000000
	golang.org/x/net v0.62.0
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)
