// ByteLink over TCP to a serial-to-Ethernet server (transparent mode: the
// server passes bytes to and from its RS-485 port unchanged).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ecmgw/protocols/transport.hpp"

namespace ecmgw::transport {

struct TcpEndpoint {
    std::string host;
    int port = 0;
    std::chrono::milliseconds connect_timeout{5000};
};

Expected<std::unique_ptr<ByteLink>> open_tcp(const TcpEndpoint& endpoint);

}  // namespace ecmgw::transport
