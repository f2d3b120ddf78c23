// DL/T 645-1997 requests: the 2007 frame with the 1997 function codes and 2-byte DIs.
#include "ecmgw/protocols/dlt645_1997.hpp"

namespace ecmgw::dlt645_1997 {

namespace {

Bytes di_bytes(DataId di) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8)};
}

Bytes request(const dlt645::Address& meter, Function function, DataId di, std::size_t wakeup) {
    return dlt645::encode_frame(
        dlt645::Frame{meter, static_cast<std::uint8_t>(function), di_bytes(di)}, wakeup);
}

}  // namespace

Bytes encode_read(const dlt645::Address& meter, DataId di, std::size_t wakeup) {
    return request(meter, Function::Read, di, wakeup);
}

Bytes encode_read_follow_up(const dlt645::Address& meter, DataId di, std::size_t wakeup) {
    return request(meter, Function::ReadFollowUp, di, wakeup);
}

Bytes encode_broadcast_time(const dlt645::DateTime& t, std::size_t wakeup) {
    return dlt645::encode_broadcast_time(t, wakeup);
}

}  // namespace ecmgw::dlt645_1997
