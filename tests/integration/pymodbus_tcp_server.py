#!/usr/bin/python3
"""A Modbus TCP server we did not write (pymodbus, from Debian) holding an
Eastron SDM120's input registers, for the gateway to read.

    pymodbus_tcp_server.py PORT UNIT
"""
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer

# The SDM120's float32 input registers (config/profiles/eastron-sdm120.toml).
VALUES = {0x0000: 230.5, 0x0006: 4.25, 0x000C: 979.0, 0x0046: 50.01, 0x0048: 1234.56}


def main():
    port, unit = int(sys.argv[1]), int(sys.argv[2])
    registers = [0] * 400
    for address, value in VALUES.items():
        registers[address:address + 2] = struct.unpack(">HH", struct.pack(">f", value))
    # pymodbus 3.0 blocks are 1-based: element 0 stands before register 0.
    slave = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, [0] + registers),
                               hr=ModbusSequentialDataBlock(0, [0] * 401))
    StartTcpServer(context=ModbusServerContext(slaves={unit: slave}, single=False),
                   address=("127.0.0.1", port))


if __name__ == "__main__":
    main()
