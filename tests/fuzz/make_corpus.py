#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed-*).

The seeds are valid (and a few typical invalid) inputs taken from the repository itself: the
message examples of docs/PROTOCOL.md, the bad-message table of the codec tests, the example
device configs, the mappings and the request examples of docs/MQTT.md, wrapped in the
small input programs of the targets that read one (see each fuzz_<target>.cpp). Files named
crash-* or regress-* are inputs that once found a bug: this script never touches them.
Re-run after changing a target's input format: python3 tests/fuzz/make_corpus.py
"""
import json
import os
import re
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def protocol_examples():
    """Every one-line JSON message example of docs/PROTOCOL.md, by type (order kept)."""
    out = []
    with open(os.path.join(ROOT, "docs", "PROTOCOL.md"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith('{"type":'):
                try:
                    json.loads(line)
                except ValueError:
                    continue
                if line not in out:
                    out.append(line)
    return out


def msg_type(text):
    return json.loads(text)["type"]


def slug(text, n=40):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:n] or "empty"


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def clear_seeds(target):
    folder = os.path.join(CORPUS, target)
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.startswith("seed-"):
                os.remove(os.path.join(folder, name))


def frame(payload):
    payload = payload.encode() if isinstance(payload, str) else payload
    return struct.pack(">I", len(payload)) + payload


def wide_chunk(data):
    data = data.encode() if isinstance(data, str) else data
    return struct.pack(">H", len(data)) + data


def byte_chunk(data):
    data = data.encode() if isinstance(data, str) else data
    assert len(data) < 256, len(data)
    return bytes([len(data)]) + data


def main():
    examples = protocol_examples()
    if len(examples) < 20:
        sys.exit("make_corpus: expected the message examples of docs/PROTOCOL.md, found %d" % len(examples))
    discovery = [e for e in examples if msg_type(e) in ("DeviceAnnounce", "DeviceSearch", "DeviceByeBye")]
    connection = [e for e in examples if e not in discovery]

    # message: every example, and every entry of the codec's bad-message table.
    clear_seeds("message")
    for i, e in enumerate(examples):
        write("message", "%02d-%s" % (i, slug(msg_type(e))), e)
    with open(os.path.join(ROOT, "tests", "unit", "core", "data", "bad_messages.json"), encoding="utf-8") as f:
        for i, case in enumerate(json.load(f)):
            write("message", "bad-%03d-%s" % (i, slug(case["name"])), case["input"])

    # frame: [split seed] + stream.
    clear_seeds("frame")
    stream = b"".join(frame(e) for e in connection[:6])
    write("frame", "six-frames-split-1", b"\x00" + stream)
    write("frame", "six-frames-split-lcg", b"\x07" + stream)
    write("frame", "zero-length", b"\x03" + frame(connection[0]) + b"\x00\x00\x00\x00")
    write("frame", "oversized-length", b"\x05" + b"\x00\x01\x00\x01" + b"x" * 16)
    write("frame", "max-length-header", b"\x09" + b"\x00\x01\x00\x00" + b"y" * 100)
    write("frame", "huge-length", b"\x02" + b"\xff\xff\xff\xff")
    write("frame", "partial", b"\x01" + frame(connection[1])[:-3])

    # discovery: [random seed][start flag] + ops (0x80|source<<4: wide datagram; 4: time; 6: search; 7: stop/start).
    clear_seeds("discovery")
    for i, e in enumerate(discovery):
        write("discovery", "%02d-%s" % (i, slug(msg_type(e))), b"\x01\x01" + b"\x80" + wide_chunk(e) + b"\x04\x32")
    search_all = '{"type":"DeviceSearch","search_id":9,"conditions":{},"mx":0}'
    write("discovery", "search-answered-at-once", b"\x02\x01" + b"\x90" + wide_chunk(search_all) + b"\x04\x0a")
    write("discovery", "our-search-then-answer",
          b"\x03\x01\x06" + byte_chunk("Lamp") + b"\x01" + b"\x80" + wide_chunk(discovery[1]) + b"\x04\xff\x04\xff")
    write("discovery", "announce-then-byebye-then-stop",
          b"\x04\x01\x80" + wide_chunk(discovery[0]) + b"\x80" + wide_chunk(discovery[-1]) + b"\x47\x07")
    write("discovery", "oversized", b"\x05\x00\x80" + wide_chunk("x" * 1500))
    write("discovery", "not-json", b"\x06\x01\x00" + byte_chunk("\x00\x01garbage{"))

    # sealed: mode 0 raw open; mode 1 seal+open; mode 2+ established connection program.
    clear_seeds("sealed")
    write("sealed", "raw-short", b"\x00" + b"\x01" * 10)
    write("sealed", "raw-long", b"\x00" + bytes(range(64)))
    write("sealed", "seal-open-ping", b"\x01" + struct.pack(">QHB", 1, 3, 0x80) + b'{"type":"Ping","serial":3}')
    write("sealed", "seal-open-empty", b"\x01" + struct.pack(">QHB", 2**64 - 1, 0, 1))
    plain_disconnect = '{"type":"Disconnect","serial":3,"reason":"NORMAL"}'
    write("sealed", "established-messages", b"\x02\x11" + b"\x01\x00" + b"\x01\x02\x05" + b"SwitchPower"[:0] + b"\x01\x03\x07"
          + b"\x01\x04\x09" + b"\x01\x05\x02" + b"\x05\x04")
    write("sealed", "established-unsealed-disconnect", b"\x02\x12" + b"\x02" + byte_chunk(plain_disconnect) + b"\x01\x00")
    write("sealed", "established-forged-disconnect", b"\x02\x13" + b"\x03" + byte_chunk(plain_disconnect) + b"\x05" + b"\x01\x00")
    write("sealed", "established-replay", b"\x02\x14" + b"\x01\x00" + b"\x04\x00")
    write("sealed", "established-sealed-json", b"\x02\x15" + b"\x00" + byte_chunk('{"type":"Ping","serial":3}') + b"\x05\xff")
    write("sealed", "established-keepalive", b"\x02\x16" + b"\x05\x3c" + b"\x05\x3c" + b"\x05\xff")
    write("sealed", "established-peer-disconnect", b"\x02\x17" + b"\x01\x06\x00")

    # handshake: role byte (even: target, odd: initiator) + ops (see fuzz_handshake.cpp).
    clear_seeds("handshake")
    # target: 2 = ConnectRequest(1) (+serial byte if 0x80, + who), 3 = correct reply (+nonce), 0x83 = as admin,
    # 4 = wrong reply (64 bytes), 0x84 = replay captured, 5 = time, 7 = close, 8 = new connection, 9 = drop.
    write("handshake", "target-user-success", b"\x00" + b"\x02\x00" + b"\x03\x11")
    write("handshake", "target-admin-success", b"\x00" + b"\x02\x01" + b"\x83\x12")
    write("handshake", "target-wrong-reply", b"\x00" + b"\x02\x00" + b"\x04" + bytes(64))
    write("handshake", "target-unknown-user", b"\x00" + b"\x02\x02")
    write("handshake", "target-backoff",
          b"\x00" + (b"\x08\x00" + b"\x12\x00" + b"\x14" + bytes(64)) * 5 + b"\x05\x0a" + b"\x08\x00\x12\x00\x13\x01")
    write("handshake", "target-replayed-reply",
          b"\x00" + b"\x02\x00\x03\x11" + b"\x08\x00" + b"\x12\x00" + b"\x94\x00")
    write("handshake", "target-pending-bound", b"\x00" + b"\x02\x00" + (b"\x08\x01" + b"\x12\x00") * 5 + b"\x05\xff")
    write("handshake", "target-timeout", b"\x00" + b"\x02\x00" + b"\x05\x64" + b"\x03\x11")
    write("handshake", "target-close-mid", b"\x00" + b"\x02\x00" + b"\x07" + b"\x09")
    write("handshake", "target-json-frame", b"\x00" + b"\x01" + byte_chunk(connection[0]))
    write("handshake", "target-raw", b"\x00" + b"\x00" + byte_chunk(frame(connection[0])))
    # initiator: flags (bit 0x80 require auth, 0x40 no key, 0x20 by address, 0x10 table full) + ops:
    # 0 challenge(+byte), 1 correct SUCCESS(2), 2 fuzzed proof (32 bytes), 0x22 reflected reply,
    # 3 SUCCESS(1), 4 OVERLOAD/ACCESSDENIED, 5 JSON frame, 6 raw, 7 time(+byte), 8 close.
    write("handshake", "initiator-success", b"\x01\x80" + b"\x00\x05" + b"\x01")
    write("handshake", "initiator-bad-proof", b"\x01\x80" + b"\x00\x05" + b"\x02" + bytes(32))
    write("handshake", "initiator-reflected-reply", b"\x01\x80" + b"\x00\x05" + b"\x22")
    write("handshake", "initiator-downgrade-refused", b"\x01\x80" + b"\x03")
    write("handshake", "initiator-no-auth-success", b"\x01\x00" + b"\x03")
    write("handshake", "initiator-by-address", b"\x01\xa0" + b"\x00\x05" + b"\x01")
    write("handshake", "initiator-no-key", b"\x01\xc0" + b"\x00\x05")
    write("handshake", "initiator-table-full", b"\x01\x90" + b"\x00\x05" + b"\x01")
    write("handshake", "initiator-overload", b"\x01\x80" + b"\x24")
    write("handshake", "initiator-timeout", b"\x01\x80" + b"\x00\x05" + b"\x07\xff")
    write("handshake", "initiator-json", b"\x01\x80" + b"\x05" + byte_chunk(connection[2]))

    # device_config: the example configs, and a few broken ones.
    clear_seeds("device_config")
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        if name.startswith("device-") and name.endswith(".yaml"):
            with open(os.path.join(ROOT, "examples", name), "rb") as f:
                write("device_config", slug(name), f.read())
    minimal = "device: {id: 6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10, type: Lamp}\n"
    write("device_config", "minimal", minimal)
    write("device_config", "flow-style",
          minimal + "security: {authentication: none, max_connections: 2}\nservices: [{id: p, type: SwitchPower}]\n")
    write("device_config", "credentials",
          minimal + "credentials:\n  default: {user: a, password: b}\n  devices:\n"
          "    0d3c8f1e-2a4b-4c6d-8e0f-1a2b3c4d5e6f: {user: c, password: d}\n")
    write("device_config", "bad-max", minimal + "security: {max_connections: 0}\n")
    write("device_config", "anchors", "a: &x {id: 1}\ndevice: *x\nb: [*x, *x]\n")
    write("device_config", "not-a-map", "- 1\n- [2, 3]\n")
    write("device_config", "tags", "device: !!map {id: !!str 6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10, type: !!binary aGk=}\n")

    # mappings: the repository's mapping files, and a few broken ones.
    clear_seeds("mappings")
    for name in sorted(os.listdir(os.path.join(ROOT, "mappings"))):
        if name.endswith(".json"):
            with open(os.path.join(ROOT, "mappings", name), "rb") as f:
                write("mappings", slug(name), f.read())
    write("mappings", "unknown-placeholder",
          '{"service_type":"X","entities":[{"component":"switch","object_id":"a","name":"A","config":{"t":"${nope}"}}]}')
    write("mappings", "reserved-key",
          '{"service_type":"X","entities":[{"component":"switch","object_id":"a","name":"A","config":{"unique_id":"u"}}]}')
    write("mappings", "nested-placeholders",
          '{"service_type":"X","entities":[{"component":"sensor","object_id":"a","name":"A",'
          '"config":{"x":["${device}",{"y":"${service}${device_id}"}],"z":"$${base_topic}}"}}]}')

    # bridge_commands: op (topic index | 0x80 for a 2-byte length) + payload; 0xff flips the scripted result.
    clear_seeds("bridge_commands")
    topics = ["device/connect", "device/disconnect", "device/search", "device/services", "device/invoke",
              "device/configure", "device/rename", "device/remove", "device/frobnicate", "", "Lamp/set",
              "Plug/set", "Nobody/set", "homeassistant/status"]
    def cmd(topic, payload):
        return bytes([0x80 | topics.index(topic)]) + wide_chunk(payload)
    requests = [
        ("device/connect", '{"device":"Lamp","transaction":"t1"}'),
        ("device/connect", '{"device":"Lamp","target":"Plug","transaction":2}'),
        ("device/disconnect", '{"device":"Lamp","transaction":{"nested":[1,2]}}'),
        ("device/search", '{"transaction":"s1","type":"Light","mx":3}'),
        ("device/services", '{"device":"Lamp"}'),
        ("device/invoke", '{"device":"Lamp","service":"lamp","action":"SetPower","arguments":{"on":true},"transaction":"i1"}'),
        ("device/invoke", '{"device":"Lamp","service":"dimmer","action":"SetBrightness","arguments":{"brightness":150}}'),
        ("device/configure", '{"device":"Lamp","max_connections":4,"accounts":[{"user":"alice","password":"pw","role":"admin"},{"user":"bob","remove":true}],"transaction":"c1"}'),
        ("device/rename", '{"device":"Lamp","name":"Desk lamp","transaction":"r1"}'),
        ("device/remove", '{"device":"Plug","transaction":"x"}'),
        ("device/frobnicate", '{"transaction":"t3"}'),
        ("", '{}'),
        ("device/connect", '{not json'),
        ("device/connect", '[1,2,3]'),
        ("Lamp/set", '{"connection":"connect"}'),
        ("Lamp/set", '{"connection":"disconnect"}'),
        ("Lamp/set", '{"connect_to":"Plug"}'),
        ("Lamp/set", '{"disconnect_from":"Plug"}'),
        ("Lamp/set", '{"lamp":{"SetPower":{"on":true}}}'),
        ("Lamp/set", '{"dimmer":{"SetBrightness":{"brightness":50}},"lamp":{"Toggle":{}}}'),
        ("Plug/set", '{"connection":"connect"}'),
        ("Nobody/set", '{"connection":"connect"}'),
        ("homeassistant/status", 'online'),
    ]
    for i, (topic, payload) in enumerate(requests):
        write("bridge_commands", "%02d-%s" % (i, slug(topic + "-" + payload, 50)), cmd(topic, payload))
    write("bridge_commands", "rename-then-use-new-name",
          cmd("device/rename", '{"device":"Lamp","name":"Desk"}') + cmd("device/services", '{"device":"Desk"}'))
    write("bridge_commands", "failing-actions",
          b"\xff" + cmd("device/connect", '{"device":"Lamp","transaction":"f"}') + cmd("Lamp/set", '{"connection":"connect"}'))
    write("bridge_commands", "remove-then-set",
          cmd("device/remove", '{"device":"Lamp"}') + cmd("Lamp/set", '{"lamp":{"Toggle":{}}}'))
    deep = '{"transaction":' + "[" * 300 + "]" * 300 + "}"
    write("bridge_commands", "deep-transaction", cmd("device/search", deep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
