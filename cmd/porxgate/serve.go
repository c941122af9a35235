package main

import (
	"context"
	"fmt"
	"io"

	"github.com/porxgate/porxgate/gateway"
)

func serve(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	cfg, err := gateway.LoadConfig(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate serve: %v\n", err)
		return 2
	}
	level, _ := gateway.ParseLogLevel(cfg.LogLevel)
	log := newLogger(stderr, level)
	if err := gateway.Run(ctx, cfg, log); err != nil {
		log.Error("porxgate stopped", "err", err)
		return 1
	}
	log.Info("porxgate stopped cleanly")
	return 0
}
