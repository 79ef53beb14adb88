// Command client is the tutorial's TCP socket client, written with package
// win32 (Winsock): it connects to 127.0.0.1, sends a message and prints the
// server's answer.
//
//	go run ./examples/socket/client [PORT]
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

	connectSocket, err := win32.Socket(win32.AF_INET, win32.SOCK_STREAM, win32.IPPROTO_TCP)
	if err != nil {
		fmt.Printf("socket failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	defer win32.Closesocket(connectSocket)

	addr := &win32.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	if err := win32.Connect(connectSocket, addr); err != nil {
		fmt.Printf("connect failed: %d\n", win32.WSAGetLastError()) // 10061: nobody listens
		os.Exit(1)
	}

	message := "Hello from client"
	if _, err := win32.Send(connectSocket, []byte(message), 0); err != nil {
		fmt.Printf("send failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	fmt.Printf("Sent: %s\n", message)

	buffer := make([]byte, 512)
	n, err := win32.Recv(connectSocket, buffer, 0)
	if err != nil {
		fmt.Printf("recv failed: %d\n", win32.WSAGetLastError())
		os.Exit(1)
	}
	fmt.Printf("Received: %s\n", buffer[:n])
}
