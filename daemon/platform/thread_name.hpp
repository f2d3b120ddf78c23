// Names the calling thread (15 characters at most), so that `top -H`, `ps -L`
// and gdb show which part of the daemon is busy.
#pragma once

#include <pthread.h>

#include <string>

namespace ecmgw::platform {

inline void name_this_thread(const std::string& name) {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace ecmgw::platform
