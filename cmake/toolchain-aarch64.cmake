# Cross-compiling for arm64 boxes on a Debian bookworm amd64 machine, with Debian's
# cross toolchain (crossbuild-essential-arm64) and the :arm64 -dev packages of the
# dependencies installed side by side (multiarch). scripts/cross-arm64 sets it all up.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Libraries and their CMake/pkg-config files come from the arm64 multiarch directories
# only: an amd64 library found by mistake would fail at link time, far from the cause.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Test binaries (and doctest's test discovery at build time) run under user-mode qemu.
# No -L /usr/aarch64-linux-gnu: the :arm64 packages bring libc6:arm64 and its loader
# (/lib/ld-linux-aarch64.so.1) into the host's multiarch directories, and mixing the
# cross toolchain's older libc with those libraries hung the store's threaded tests.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

# The .deb's architecture and the objdump dpkg-shlibdeps reads the binaries with.
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
