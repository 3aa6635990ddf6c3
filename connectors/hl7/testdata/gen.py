#!/usr/bin/python3
"""Generates the sample orders of testdata/ (run: python3 gen.py).

Each segment is given as {field number: ER7 value} so numbering is exact.
"""

def seg(name, fields):
    n = max(fields)
    vals = [fields.get(i, "") for i in range(1, n + 1)]
    if name == "MSH":
        return "MSH|" + "|".join(vals[1:])  # MSH-1 is the separator itself
    return name + "|" + "|".join(vals)

def w(name, segs, enc, sep="\r"):
    open(name, "wb").write((sep.join(segs) + sep).encode(enc))

def msh(app, fac, ts, ctrl, ver, charset="", extra=None):
    f = {2: "^~\\&", 3: app, 4: fac, 5: "MESI", 6: "HUB", 7: ts, 9: "ORM^O01", 10: ctrl, 11: "P", 12: ver}
    if charset:
        f[17], f[18] = "SI", charset
    f.update(extra or {})
    return seg("MSH", f)

w("birpis_orm.hl7", [
    msh("BIRPIS", "ZD LJUBLJANA", "20240315083000", "BIR0001", "2.3", "8859/2", {6: "MESI", 5: "MCONNECT"}),
    seg("PID", {1: "1", 3: "123456^^^ZZZS^MR~SI880101^^^ZZZS^SS", 5: "Čebašek^Žiga^Matjaž^^dr.", 7: "19800101", 8: "M",
                10: "2106-3^White^HL70005", 11: "Šmartinska cesta 12^Stanovanje 3^Ljubljana^^1000^SI^H",
                13: "01 234 5678^PRN^PH^ziga.cebasek@example.si~041 123 456^ORN^CP", 15: "sl"}),
    seg("PV1", {1: "1", 2: "O", 3: "KARD^101^1^ZDL", 7: "1234^Novak^Ana^^^dr.", 10: "KAR", 19: "V2024-77^^^ZDL^VN",
                44: "20240315080000", 45: "20240315120000"}),
    seg("ORC", {1: "NW", 2: "ORD1001^BIRPIS", 3: "FIL1001^MESI", 4: "GRP55", 5: "SC", 6: "Y", 7: "1^^^20240315090000^^R",
                9: "20240315083000", 10: "5678^Kranjc^Maja", 11: "9999^Verifier^Vera", 12: "1234^Novak^Ana^^^dr.",
                14: "01 555 1234", 15: "20240315083500"}),
    seg("OBR", {1: "1", 2: "ORD1001^BIRPIS", 3: "FIL1001^MESI", 4: "ECG^Mirovni EKG^L", 5: "R", 6: "20240315083000",
                7: "20240315090000", 13: "Sum na aritmijo", 16: "1234^Novak^Ana^^^dr.", 17: "01 555 1234", 24: "CARD",
                27: "1^^^20240315091500^^R", 34: "TECH1&Zupan&Luka", 36: "20240315093000", 44: "EKG12^12-kanalni EKG"}),
], "iso-8859-2")

w("hipokrat_orm.hl7", [
    msh("HIPOKRAT", "AMB MARIBOR", "20240402101500+0200", "HIP-77", "2.5", "UNICODE UTF-8", {9: "ORM^O01^ORM_O01"}),
    seg("PID", {1: "1", 3: "998877^^^HIP^PI", 5: "Žužek^Špela^^^ga.", 7: "19751224", 8: "F", 10: "2106-3^White^HL70005",
                11: "Gosposka ulica 5^^Maribor^^2000^SI^H", 13: "02 111 2222^PRN^PH^spela.zuzek@example.si", 15: "sl^Slovenian"}),
    seg("PV1", {1: "1", 2: "O", 3: "INT^2^^AMB", 4: "R", 7: "777^Horvat^Boris", 10: "INT", 19: "ACC-1^^^HIP^AN",
                44: "20240402100000"}),
    seg("ORC", {1: "NW", 2: "H-5001^HIPOKRAT", 4: "G-1", 5: "SC", 7: "1^^^20240402110000^^R", 9: "20240402101500",
                10: "111^Vnos^Anja", 12: "777^Horvat^Boris", 14: "02 111 9999", 15: "20240402101500"}),
    seg("OBR", {1: "1", 2: "H-5001^HIPOKRAT", 4: "ABI^Gleženjsko-brahialni indeks^L", 7: "20240402110000",
                16: "777^Horvat^Boris", 24: "VAS", 27: "1^^^20240402110000^^S", 34: "T7&Kos&Maja"}),
], "utf-8")

w("iris_orm.hl7", [
    msh("IRIS", "SB CELJE", "20240510140000", "IRIS-2024-0001", "2.4", "CP1250"),
    seg("PID", {1: "1", 3: "55555^^^IRIS^MR", 5: "Kočevar^Ivan", 7: "19600704", 8: "M",
                11: "Celjska 8^^Celje^^3000^SI^H", 13: "03 444 5555^PRN^PH", 15: "sl"}),
    seg("PV1", {1: "1", 2: "I", 3: "INT^12^3", 4: "E", 7: "42^Golob^Petra", 10: "INT", 19: "HOSP-9^^^SBC^VN"}),
    seg("ORC", {1: "NW", 2: "IR-42", 5: "SC", 7: "^^^20240510150000^^R", 9: "20240510140000", 12: "42^Golob^Petra"}),
    seg("OBR", {1: "1", 2: "IR-42", 4: "SPO2^Pulzna oksimetrija", 7: "20240510150000", 16: "42^Golob^Petra"}),
], "cp1250", sep="\n")

w("isoz_orm.hl7", [
    msh("ISOZ", "ZD KRANJ", "20240601073000", "ISOZ000123", "2.3.1", "8859/2", {15: "AL", 16: "NE"}),
    seg("PID", {1: "1", 3: "777000^^^ISOZ^MR", 5: "Škofič^Čarli\\T\\Co", 7: "19901231", 8: "U",
                11: "Ulica \\F\\ pot 3^^Kranj^^4000^SI^M", 13: "^NET^Internet^carli@example.si", 15: "sl"}),
    seg("PV1", {1: "1", 2: "O", 3: "ORT"}),
    seg("ORC", {1: "XO", 2: "IS-9", 5: "IP", 9: "20240601073000", 12: "88^Zorman^Tina^^^dr."}),
    seg("OBR", {1: "1", 2: "IS-9", 4: "BP^Krvni tlak", 13: "Meritev\\.br\\po naporu", 27: "^^^20240601080000^^R"}),
    seg("NTE", {1: "1", 3: "Prosim meritev\\.br\\na obeh rokah"}),
], "iso-8859-2", sep="\r\n")

w("nextgen_orm.hl7", [
    seg("MSH", {2: "^~\\&", 3: "NEXTGEN", 4: "NG CLINIC", 5: "MESI", 6: "HUB", 7: "20240704093015-0500",
                9: "ORM^O01^ORM_O01", 10: "NG20240704093015001", 11: "P", 12: "2.5.1", 15: "AL", 16: "AL"}),
    seg("PID", {1: "1", 3: "MRN1001^^^NGC^MR~999-88-7777^^^SSA^SS", 5: "Doe^John^Quincy^Jr^Mr^MD", 7: "19580214", 8: "M",
                10: "2054-5^Black or African American^CDCREC", 11: "100 Main St^Apt 4^Springfield^IL^62701^USA^H",
                13: "^PRN^PH^^1^217^5550101~^NET^Internet^john.doe@example.com", 14: "^WPN^PH^^1^217^5550199",
                15: "en^English^ISO639"}),
    seg("PV1", {1: "1", 2: "O", 3: "CARD^^^NGC", 4: "R", 7: "1111^Smith^Jane^^^^MD^^^^^^NPI", 10: "CAR",
                19: "ENC778^^^NGC^VN", 44: "20240704090000"}),
    seg("ORC", {1: "NW", 2: "NG-ORD-1^NEXTGEN", 5: "SC", 6: "N", 7: "1^^^20240704100000^^S", 9: "20240704093015",
                10: "2222^Clerk^Carl", 12: "1111^Smith^Jane^^^^MD", 13: "NGC FRONT", 14: "^WPN^PH^^1^217^5550100",
                15: "20240704093015"}),
    seg("OBR", {1: "1", 2: "NG-ORD-1^NEXTGEN", 4: "TBI^Toe Brachial Index^L", 7: "20240704100000",
                16: "1111^Smith^Jane^^^^MD", 17: "^WPN^PH^^1^217^5550100", 24: "VAS", 36: "20240704100000",
                44: "93922^Upper/lower extremity arterial study^C4"}),
], "ascii")

w("weda_orm.hl7", [
    seg("MSH", {2: "^~\\&", 3: "WEDA", 4: "CABINET DUPRE", 5: "MESI", 6: "HUB", 7: "20240812160000", 9: "ORM^O01",
                10: "WEDA-0812-1", 11: "P", 12: "2.5", 17: "FR", 18: "8859/1"}),
    seg("PID", {1: "1", 3: "FR-4242^^^WEDA^PI", 5: "Dupré^Hélène^Zoé", 7: "19851105", 8: "F",
                11: "12 rue de l'Église^^Besançon^^25000^FR^H", 13: "03 81 00 00 00^PRN^PH^helene.dupre@example.fr",
                15: "fr"}),
    seg("PV1", {1: "1", 2: "O", 3: "CAB1", 7: "77^Lefèvre^Éric"}),
    seg("ORC", {1: "NW", 2: "ECG-98765^WEDA", 12: "77^Lefèvre^Éric"}),
    seg("OBR", {1: "1", 2: "ECG-98765^WEDA", 4: "ECG^Électrocardiogramme", 7: "20240812163000", 16: "77^Lefèvre^Éric"}),
], "iso-8859-1")
