# The Debian package: `cpack` (or `cmake --build <dir> --target package`) in a build
# configured with -DCMAKE_INSTALL_PREFIX=/usr writes ecmgw_<version>_<arch>.deb.
# For arm64 see scripts/cross-arm64; the package's contents are checked by
# tests/integration/test_package.py.

# /etc/ecmgw/ecmgw.toml is the package's conffile (dpkg keeps a technician's edits on
# upgrade). A hand install (`cmake --install`) must never overwrite a working config,
# so the copy is made only where no config exists yet; in cpack's staging tree there
# never is one.
# The install script runs without this project's variables; hand it the path first.
install(CODE "set(_ecmgw_example \"${PROJECT_SOURCE_DIR}/config/ecmgw.example.toml\")")
install(CODE [[
  set(_ecmgw_conf "$ENV{DESTDIR}/etc/ecmgw/ecmgw.toml")
  if(EXISTS "${_ecmgw_conf}")
    message(STATUS "Keeping existing: ${_ecmgw_conf}")
  else()
    # file(INSTALL) puts DESTDIR (cpack's staging tree) in front of the path itself.
    file(INSTALL DESTINATION "/etc/ecmgw" TYPE FILE FILES "${_ecmgw_example}" RENAME ecmgw.toml)
  endif()
]])

if(NOT DEFINED CPACK_DEBIAN_PACKAGE_ARCHITECTURE)
  if(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  else()
    execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE CPACK_DEBIAN_PACKAGE_ARCHITECTURE
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ecmgw)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "easyecm")
set(CPACK_PACKAGE_CONTACT "easyecm gateway maintainers <gateway@easyecm.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "prepaid metering gateway for RS-485 electricity and water meters")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "The daemon of the building concentrator box: it polls DL/T 645, CJ/T 188 and Modbus
 meters on RS-485 buses, stores every reading in SQLite, runs prepaid rating and supply
 control on the box, and forwards readings to the cloud over MQTT. Includes the
 technician's command line (read, relay, valve, scan, check-config, import-meters) and
 the meter simulator ecmgw-sim.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from the binaries' shared libraries (dpkg-shlibdeps), plus what the
# maintainer scripts and the unit use.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247)")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/conffiles ${PROJECT_SOURCE_DIR}/cmake/debian/postinst
    ${PROJECT_SOURCE_DIR}/cmake/debian/prerm ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/;/\\\\.git/")

include(CPack)
