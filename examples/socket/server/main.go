// Command server is the tutorial's TCP socket server, written with package
// win32 (Winsock): it accepts one connection on 127.0.0.1, prints what the
// client sends and answers it.
//
//	go run ./examples/socket/server [PORT]
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/xipc/xipc/win32"
)

func main() {
	port := 27015
	if len(os.Args) > 1 {
		port, _ = strconv.Atoi(os.Args[1])
	}
	if _, err := win32.WSAStartup(win32.MAKEWORD(2, 2)); err != nil {
		fmt.Printf("WSAStartup failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	defer win32.WSACleanup()

	listenSocket, err := win32.Socket(win32.AF_INET, win32.SOCK_STREAM, win32.IPPROTO_TCP)
	if err != nil {
		fmt.Printf("socket failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	defer win32.Closesocket(listenSocket)

	addr := &win32.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	if err := win32.Bind(listenSocket, addr); err != nil {
		fmt.Printf("bind failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	if err := win32.Listen(listenSocket, win32.SOMAXCONN); err != nil {
		fmt.Printf("listen failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}

	fmt.Printf("Waiting for a connection on port %d...\n", port)
	clientSocket, _, err := win32.Accept(listenSocket)
	if err != nil {
		fmt.Printf("accept failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	defer win32.Closesocket(clientSocket)
	fmt.Println("Client connected")

	buffer := make([]byte, 512)
	n, err := win32.Recv(clientSocket, buffer, 0)
	if err != nil {
		fmt.Printf("recv failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	fmt.Printf("Received: %s\n", buffer[:n])

	reply := "Hello from server"
	if _, err := win32.Send(clientSocket, []byte(reply), 0); err != nil {
		fmt.Printf("send failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	fmt.Printf("Sent: %s\n", reply)
	win32.Shutdown(clientSocket, win32.SD_SEND)
}
