#!/usr/bin/env python3
"""Writes the GDT test files. Lengths and 8100 are computed here,
independently of the Go encoder, so the parser is checked against a second
implementation. Run from this directory: python3 make_testdata.py"""

DIN = {'Ä': '[', 'Ö': '\\', 'Ü': ']', 'ä': '{', 'ö': '|', 'ü': '}', 'ß': '~', '§': '@'}


def enc(s, cs):
    if cs == 'din66003':
        return ''.join(DIN.get(c, c) for c in s).encode('ascii')
    return s.encode(cs)


def record(fields, cs, with8100=True):
    lines = [(fid, enc(val, cs)) for fid, val in fields]
    def line(fid, b):
        return b'%03d' % (9 + len(b)) + fid.encode() + b + b'\r\n'
    body = b''.join(line(f, b) for f, b in lines[1:])
    first = line(*lines[0])
    if not with8100:
        return first + body
    total = len(first) + len(body) + 14
    return first + line('8100', b'%05d' % total) + body


def write(name, data):
    with open(name, 'wb') as f:
        f.write(data)


doctolib = [
    ('8000', '6302'), ('8315', 'MESI'), ('8316', 'DOCTOLIB'), ('9206', '2'), ('9218', '02.10'),
    ('8402', 'EKG01'), ('8609', 'K'), ('2998', 'Ruhe-EKG'), ('2999', 'DL-20250311-0042'),
    ('3000', '100234'), ('3101', 'Müller'), ('3102', 'Jürgen'), ('3103', '07031961'),
    ('3105', 'A123456789'), ('3106', '80331 München'), ('3107', 'Schößlstraße 12'),
    ('3110', '1'), ('3112', '80331'), ('3113', 'München'), ('3633', 'juergen.mueller@example.de'),
    ('3626', '+49 89 1234567'), ('3629', '4711'), ('6200', '11032025'), ('6201', '093000'),
]
write('doctolib_6302_cp437.gdt', record(doctolib, 'cp437'))

tomedo = [
    ('8000', '6302'), ('8315', 'MESI'), ('8316', 'TOMEDO'), ('9218', '03.00'),
    ('8310', 'T-98765'), ('8314', '5f0c2d3e-8a41-4b7e-9d2c-1a2b3c4d5e6f'), ('8402', 'ABI01'),
    ('3000', '4711'), ('3101', 'Öztürk'), ('3102', 'Ayşe'), ('3103', '29021984'),
    ('3104', 'Dr.'), ('3105', 'X987654321'), ('3107', 'Kurfürstendamm 21'), ('3110', 'W'),
    ('3112', '10719'), ('3113', 'Berlin'), ('3114', 'D'), ('3618', '+49 170 5555555'),
    ('3619', 'ayse@example.org'), ('3622', '168'), ('3623', '61.5'), ('3628', 'tr'),
    ('3108', '1'), ('4109', '01012025'), ('2998', 'Knöchel-Arm-Index'),
]
write('tomedo_6302_utf8.gdt', record(tomedo, 'utf-8'))

t15 = [
    ('8000', '6302'), ('8315', 'MESI'), ('8316', 'TOMEDO'), ('9206', '4'), ('9218', '03.00'),
    ('8310', 'T-1001'), ('8402', 'SPO201'), ('3000', '815'), ('3101', 'Groß'), ('3102', 'Bärbel'),
    ('3103', '01121950'), ('3110', 'D'), ('3106', 'Wiener Str. 3, Graz'), ('6227', 'Zuzahlung 10 €'),
]
write('tomedo_6302_8859-15.gdt', record(t15, 'iso-8859-15'))

din = [
    ('8000', '6301'), ('8315', 'MESI'), ('8316', 'PRAXIS'), ('9206', '1'), ('9218', '02.10'),
    ('3000', '77'), ('3101', 'Weiß'), ('3102', 'Ülkü'), ('3103', '15081975'), ('3110', '2'),
    ('3107', 'Hauptstraße 1 § 5'),
]
write('din66003_6301.gdt', record(din, 'din66003'))

w1252 = [
    ('8000', '6302'), ('8315', 'MESI'), ('8316', 'DOCTOLIB'), ('9206', '3'), ('9218', '02.10'),
    ('8402', 'TBI01'), ('3000', '5150'), ('3101', 'Lefèvre'), ('3102', 'Zoë'), ('3103', '31121999'),
    ('3110', '3'),
]
write('win1252_6302.gdt', record(w1252, 'cp1252'))

cancel = [
    ('8000', '6303'), ('8315', 'MESI'), ('8316', 'TOMEDO'), ('9218', '03.00'),
    ('8310', 'T-98765'), ('3000', '4711'),
]
write('tomedo_6303_cancel.gdt', record(cancel, 'utf-8'))

show = [
    ('8000', '6311'), ('8315', 'MESI'), ('8316', 'DOCTOLIB'), ('9206', '2'), ('9218', '02.10'),
    ('3000', '100234'), ('3101', 'Müller'), ('3102', 'Jürgen'), ('3103', '07031961'), ('8402', 'EKG01'),
]
write('doctolib_6311_show.gdt', record(show, 'cp437'))

# Bad files.
good = record(doctolib, 'cp437')
write('bad_empty.gdt', b'')
write('bad_binary.gdt', bytes(range(256)) * 4)
write('bad_truncated.gdt', good[:len(good) - 30])
bad = bytearray(good)
# Line 4 (9206) is "01092062\r\n" ... change its length prefix from 010 to 011.
i = good.index(b'0109206')
bad[i:i + 3] = b'011'
write('bad_line_length.gdt', bytes(bad))
write('bad_missing_8000.gdt', record([('3000', '1')] + [('3101', 'X')], 'cp437', with8100=False))
write('bad_type_6300.gdt', record([('8000', '6300')] + doctolib[1:], 'cp437'))
mm = bytearray(good)
j = good.index(b'0148100')
mm[j + 7:j + 12] = b'%05d' % (len(good) + 7)
write('bad_8100_mismatch.gdt', bytes(mm))
seven = bytearray(record(din, 'din66003'))
k = seven.index(b'Wei~')
seven[k + 3] = 0xE1  # CP437 sharp s in a file declared 7-bit
write('bad_charset_7bit.gdt', bytes(seven))
write('bad_birthdate.gdt', record([(f, '31022001' if f == '3103' else v) for f, v in doctolib], 'cp437'))

# Files real EHRs write that are read leniently (each with a warning).
write('lenient_lf_only.gdt', good.replace(b'\r\n', b'\n'))  # CRs lost, prefixes and 8100 count CR LF


def record_lf(fields, cs, count_chars=False):
    """LF line ends, prefixes counting LF (and characters when asked)."""
    out = b''
    for fid, val in fields:
        b = enc(val, cs)
        n = len(val) if count_chars else len(b)
        out += b'%03d' % (8 + n) + fid.encode() + b + b'\n'
    return out


write('lenient_lf_counted.gdt', record_lf(tomedo, 'utf-8'))
write('lenient_chars_counted.gdt', record_lf(tomedo, 'utf-8', count_chars=True))
wrong = bytearray(good)
j = good.index(b'0148100')
wrong[j + 7:j + 12] = b'%05d' % (len(good) - 4)
write('lenient_8100_smaller.gdt', bytes(wrong))
write('lenient_no_final_eol.gdt', good[:-2])
write('lenient_empty_last_line.gdt', good + b'\r\n')
# GDT 3.0, 9206=3: ISO 8859-15 (0xA6 is Š, 0xA8 š, 0xB4 Ž, 0xA4 €).
iso15 = [
    ('8000', '6302'), ('8315', 'MESI'), ('8316', 'PRAXIS'), ('9206', '3'), ('9218', '03.00'),
    ('8310', 'S-1'), ('8402', 'EKG01'), ('3000', '42'), ('3101', 'Šuštar'), ('3102', 'Žarko'),
    ('3103', '01011970'), ('6227', 'Zuzahlung 10 €'),
]
write('gdt30_9206-3_iso8859-15.gdt', record(iso15, 'iso-8859-15'))

# Refused: what cannot be read for certain, or is not an order.
write('bad_two_records.gdt', good + record(doctolib, 'cp437'))
free = good.replace(b'0148402EKG01\r\n', b'0148402EKG01\r\nfree text without a prefix\r\n')
write('bad_free_text.gdt', free)
write('bad_result_6310.gdt', record([('8000', '6310')] + doctolib[1:], 'cp437'))
write('bad_no_8000_lf_chars.gdt', record_lf([('3000', '1'), ('3101', 'Müller')], 'utf-8', count_chars=True))
