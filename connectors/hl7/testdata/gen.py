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

# Held-out-style orders for the readable-text tests (readable/): composite
# values as real EHRs send them — locations, phones, addresses, codes,
# providers and identifiers — that the tablet must show without separators.
w("readable/amb_room_bed_orm.hl7", [
    msh("PRACTICEPM", "OAK CLINIC", "20240918101500", "PM-0918-7", "2.3", extra={9: "ORM^O01"}),
    seg("PID", {1: "1", 3: "PL-N-1^^^NEXTGEN^MR", 5: "Novak^Janez^^^Mr^MD", 7: "19700131", 8: "M",
                10: "2054-5^Black or African American^HL70005", 11: "12 Main St^^Springfield^IL^62701^US",
                13: "(217) 555-0100^PRN^PH~^NET^Internet^janez.novak@example.com", 14: "(217) 555-0199^WPN^PH",
                15: "en^English^ISO639", 16: "M^Married^HL70002"}),
    seg("PV1", {1: "1", 2: "O", 3: "AMB^101^1", 7: "1234^Zdravnik^Janez", 8: "5678^Referer^Rita^^^dr.", 10: "AMB",
                19: "V-88^^^OAK^VN", 44: "20240918100000"}),
    seg("ORC", {1: "NW", 2: "PL-N-1^NEXTGEN", 3: "F-77^MESI", 5: "SC", 7: "1^^^20240918110000^^R",
                9: "20240918101500", 10: "9^Entry^Erin", 12: "1234^Zdravnik^Janez", 13: "AMB^101",
                14: "(217) 555-0100^WPN^PH", 17: "OAK^Oak Clinic^L"}),
    seg("OBR", {1: "1", 2: "PL-N-1^NEXTGEN", 4: "ECG^Resting ECG^L", 6: "20240918101500", 16: "1234^Zdravnik^Janez",
                17: "(217) 555-0100^WPN^PH", 27: "1^^^20240918110000^^R", 31: "R00.0^Tachycardia^I10",
                32: "4321&Reader&Rose", 34: "T1&Tech&Tom"}),
    seg("NTE", {1: "1", 3: "Bring previous ECG \\E\\ results"}),
], "ascii")

w("readable/radunit_facility_orm.hl7", [
    msh("RIS", "GHH", "20250102083000+0100", "RIS-1", "2.4", "8859/1"),
    seg("PID", {1: "1", 2: "EXT-9^^^GHH", 3: "4711^^^GHH&1.2.276.0.76.3.1.1&ISO^PI~S-1\\S\\2^^^SSA^SS",
                5: "van Beethoven&van&Beethoven^Ludwig^^^Herr^Dr. med.~Spitzname^Lulu^^^^^N", 7: "1770121712", 8: "W",
                11: "Bonngasse 20&Bonngasse&20^Hinterhaus^Bonn^NRW^53111^DE^H~Postfach 1\\T\\2^^Wien^^1010^AT^M",
                13: "^PRN^CP^^49^228^981750^12~^NET^Internet^ludwig\\T\\co@example.de", 22: "2186-5^Not Hispanic^CDCREC",
                29: "18270326170000+0100"}),
    seg("PV1", {1: "1", 2: "I", 3: "RADUnit01^Room01^^GHH^^^Main^2", 6: "ER^^^GHH", 7: "0815^Röntgen^Rita^^^Prof.",
                17: "0816^Aufnahme^Anna", 19: "VN-1^^^GHH^VN", 20: "01^20250101", 39: "GHH",
                44: "202501020800+0100", 45: "20250103"}),
    seg("ORC", {1: "XO", 2: "RAD-7^RIS", 3: "ACC-7^PACS", 5: "IP", 7: "^Q4H&0800,1200^X3^202501021000^202501031000^A^^fasting^^^^2",
                8: "P-1&RIS^F-1&PACS", 9: "20250102083000", 12: "0815^Röntgen^Rita^^^Prof.",
                21: "Gemeinschaftspraxis Haydn^L^^^^GHH&1.2.3&ISO^XX^^^GHH-ORG",
                22: "Am Markt 1^^Bonn^^53111^DE^B"}),
    seg("OBR", {1: "1", 2: "RAD-7^RIS", 3: "ACC-7^PACS", 4: "^^^XR-CHEST^Chest X-ray^LOCAL", 5: "S", 7: "20250102",
                9: "5^mL&millilitre&UCUM", 13: "Pain\\.br\\since Monday", 15: "BLDV&Blood venous&HL70070^^draw slowly^LA&Left arm",
                16: "0815^Röntgen^Rita^^^Prof.", 24: "RAD", 27: "^^^202501021000^^A",
                44: "^^^^^^^^Chest radiograph, 2 views", 46: "\\X41\\\\X42\\C"}),
], "iso-8859-1")

w("readable/description_only_orm.hl7", [
    seg("MSH", {2: "^~\\&", 3: "EPIC", 4: "OAK RIDGE", 5: "MESI", 6: "HUB", 7: "20240301120000-0500",
                9: "ORM^O01^ORM_O01", 10: "EP-301", 11: "P", 12: "2.5.1", 18: "UNICODE UTF-8"}),
    seg("PID", {1: "1", 3: "E-1^^^EPIC^MR^OAKFAC", 5: "O'Neil^Mary-Kate^Ann^III", 7: "19851130", 8: "F",
                10: "^^^^^^^^Other Race", 11: "^^^^^^^^Hamilton County",
                13: "^PRN^PH^^^555^0101~^^^^^^^^^unformatted~555-0199^^FX", 15: "^^^^^^^^Spanish"}),
    seg("PV1", {1: "1", 2: "E", 3: "^^^^^^^^Oak Ridge Big Name Location", 7: "^Nurse^Nina",
                8: "NPI-1^^^^^^^^^^^^NPI", 19: "^^^EPIC^VN"}),
    seg("ORC", {1: "NW", 2: "^EPIC", 4: "G-3^EPIC", 7: "^^^^^^^^^^^^", 9: "20240301120000-0500",
                12: "7^Doc^Dora~8^Backup^Ben", 14: "^^^^^^^^^ask for the ward"}),
    seg("OBR", {1: "1", 2: "^EPIC", 4: "BP^^LOCAL", 6: "2024030113-0500", 7: "2024",
                16: "7^Doc^Dora", 27: "^^^20240301130000-0500"}),
], "utf-8")
