// Command etcd is the stock etcd server, built from go.etcd.io/etcd/server/v3 as a plain dependency:
// the upstream go.etcd.io/etcd/v3 main module uses replace directives, so `go install` refuses it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
