#!/usr/bin/env python3
"""Sends N appointments (Birpis ORM^O01 over MLLP, today's date) to the hub
for scripts/gui-footprint.sh (ORDERS=N): testdata/orders/birpis_orm.hl7 with a
new patient ID, order number and control ID each, over 4 connections, each
message acknowledged before the next.
   gui-footprint-orders.py HOST:PORT N"""
import datetime
import os
import socket
import sys
import threading

addr, n = sys.argv[1], int(sys.argv[2])
host, port = addr.rsplit(":", 1)
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "testdata", "orders", "birpis_orm.hl7"), "rb") as f:
    sample = f.read().replace(b"\r\n", b"\r").replace(b"\n", b"\r")
today = datetime.date.today().strftime("%Y%m%d").encode()
sample = sample.replace(b"20240315", today)


def message(i):
    return (sample.replace(b"BIR0001", b"FP%06d" % i)
            .replace(b"ORD1001", b"FP%06d" % i)
            .replace(b"FIL1001", b"FF%06d" % i)
            .replace(b"123456^^^ZZZS", b"%06d^^^ZZZS" % (200000 + i)))


def send(start, step, errors):
    s = socket.create_connection((host, int(port)))
    buf = b""
    for i in range(start, n, step):
        s.sendall(b"\x0b" + message(i) + b"\x1c\r")
        while b"\x1c\r" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                errors.append("connection closed at message %d" % i)
                return
            buf += chunk
        ack, buf = buf.split(b"\x1c\r", 1)
        if b"MSA|AA" not in ack and b"MSA|CA" not in ack:
            errors.append("message %d not accepted: %r" % (i, ack[-200:]))
            return
    s.close()


errors = []
threads = [threading.Thread(target=send, args=(k, 4, errors)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("gui-footprint-orders: " + "; ".join(errors[:3]))
