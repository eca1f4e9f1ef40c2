package main

import (
	"errors"

	"github.com/wsclient/wsclient"
)

// setProxy applies -p/--proxy.
func setProxy(o *wsclient.DialOptions, raw string) error {
	_ = o
	return errors.New("-p/--proxy is not supported yet by this build of wsclient")
}
