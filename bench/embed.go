package main

import _ "embed"

//go:embed python/wsbench.py
var pythonScript []byte
