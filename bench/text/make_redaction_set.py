#!/usr/bin/env python3
"""Builds crates/escucha-text/tests/data/redaction_fake.jsonl: a redaction test set of realistic
customer comments filled with FAKE personal data (valid check digits, invented people).

Each row: text, lang, pii (the literal personal-data substrings; look-alikes such as order
numbers, amounts and dates are deliberately present and must NOT be masked), kinds.
Deterministic (fixed seed). Run from the workspace root:
    python3 bench/text/make_redaction_set.py
"""
import json
import random

random.seed(20261124)

FIRST_ES = ["Yesenia", "Anselmo", "Leire", "Fermín", "Remedios", "Osvaldo", "Nahuel", "Agostina",
            "Rigoberto", "Maite", "Jacinto", "Zulema", "Lucía", "Javier", "Carmen", "Diego", "Paola",
            "Andrés", "Marta", "Gonzalo", "Florencia", "Ignacio", "Rocío", "Tomás", "Valeria"]
FIRST_EN = ["Siobhan", "Cormac", "Tyrone", "Deborah", "Kwame", "Harriet", "Declan", "Imogen",
            "Emily", "James", "Sarah", "Michael", "Olivia", "Thomas", "Grace"]
LAST_ES = ["Urrutia", "Villaseñor", "Cárdenas", "Altamirano", "Echeverría", "Zambrano", "Paredes",
           "Quintana", "Solís", "Barrios", "Montenegro", "Iturbe", "Llorente", "Saavedra", "Peña",
           "Arriagada", "Mendoza", "Figueroa", "Olmedo", "Bustos"]
LAST_EN = ["Whitaker", "Okafor", "Brennan", "Fairclough", "Holloway", "McBride", "Pemberton",
           "Ashworth", "O'Brien", "Gallagher", "Thornton", "Reeves"]
DOMAINS = ["gmail.com", "hotmail.com", "outlook.es", "yahoo.com.ar", "correo.cl", "icloud.com",
           "protonmail.com", "empresa-ficticia.mx"]


def name_es():
    n = f"{random.choice(FIRST_ES)} {random.choice(LAST_ES)}"
    return n + (f" {random.choice(LAST_ES)}" if random.random() < 0.5 else "")


def name_en():
    return f"{random.choice(FIRST_EN)} {random.choice(LAST_EN)}"


def fold(s):
    return (s.lower().replace("á", "a").replace("é", "e").replace("í", "i").replace("ó", "o")
            .replace("ú", "u").replace("ñ", "n").replace("'", ""))


def email(full):
    parts = fold(full).split()
    user = random.choice([".".join(parts[:2]), parts[0] + parts[1][:1], parts[0] + str(random.randint(10, 99))])
    return f"{user}@{random.choice(DOMAINS)}"


def dni():
    n = random.randint(10_000_000, 99_999_999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def nie():
    p = random.choice("XYZ")
    n = random.randint(1_000_000, 9_999_999)
    return f"{p}{n:07d}{'TRWAGMYFPDXBNJZSQVHLCKE'[('XYZ'.index(p) * 10_000_000 + n) % 23]}"


def rut():
    body = random.randint(5_000_000, 25_000_000)
    s, m = 0, 2
    for d in reversed(str(body)):
        s += int(d) * m
        m = m + 1 if m < 7 else 2
    r = 11 - s % 11
    dv = "0" if r == 11 else "K" if r == 10 else str(r)
    b = f"{body:,}".replace(",", ".")
    return f"{b}-{dv}"


def cpf():
    d = [random.randint(0, 9) for _ in range(9)]
    s = sum(d[i] * (10 - i) for i in range(9)); d1 = (s * 10 % 11) % 10
    s = sum(d[i] * (11 - i) for i in range(9)) + d1 * 2; d2 = (s * 10 % 11) % 10
    x = "".join(map(str, d))
    return f"{x[:3]}.{x[3:6]}.{x[6:9]}-{d1}{d2}"


def curp():
    al = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
    c = (random.choice("BCDGLMPRS") + random.choice("AEIOU") + random.choice("ABGLMRSU") + random.choice("AEIRZ")
         + f"{random.randint(60, 99)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
         + random.choice("HM") + random.choice(["DF", "JC", "NL", "PL", "MC", "VZ"])
         + random.choice("BCDGLMNRST") + random.choice("BCDGLMNRST") + random.choice("BCDGLMNRST") + "0")
    s = sum(al.index(ch) * (18 - i) for i, ch in enumerate(c))
    return c + str((10 - s % 10) % 10)


def luhn_complete(prefix, length):
    d = [int(x) for x in prefix] + [random.randint(0, 9) for _ in range(length - len(prefix) - 1)]
    for check in range(10):
        digits = d + [check]
        s = 0
        for i, v in enumerate(reversed(digits)):
            if i % 2 == 1:
                v *= 2
                v = v - 9 if v > 9 else v
            s += v
        if s % 10 == 0:
            return "".join(map(str, digits))


def card():
    prefix = random.choice(["4", "51", "55", "4", "37"])
    if prefix == "37":  # American Express: 15 digits, grouped 4-6-5
        c = luhn_complete(prefix, 15)
        return f"{c[:4]} {c[4:10]} {c[10:]}" if random.random() < 0.7 else c
    c = luhn_complete(prefix, 16)
    return " ".join(c[i:i + 4] for i in range(0, 16, 4)) if random.random() < 0.7 else c


def iban():
    bban = "".join(str(random.randint(0, 9)) for _ in range(20))
    num = int("".join(str(int(ch, 36)) for ch in bban + "ES00"))
    check = 98 - num % 97
    raw = f"ES{check:02d}{bban}"
    return " ".join(raw[i:i + 4] for i in range(0, 24, 4)) if random.random() < 0.7 else raw


def phone(country):
    r = lambda a, b: random.randint(a, b)
    return {
        "ES": random.choice([f"6{r(10,99)} {r(100,999)} {r(100,999)}", f"+34 6{r(10,99)} {r(10,99)} {r(10,99)} {r(10,99)}", f"7{r(10,99)}{r(100,999)}{r(100,999)}"]),
        "MX": random.choice([f"55 {r(1000,9999)} {r(1000,9999)}", f"+52 1 33 {r(1000,9999)} {r(1000,9999)}", f"(81) {r(1000,9999)}-{r(1000,9999)}"]),
        "CL": random.choice([f"+56 9 {r(1000,9999)} {r(1000,9999)}", f"9 {r(1000,9999)} {r(1000,9999)}"]),
        "PE": random.choice([f"9{r(10,99)} {r(100,999)} {r(100,999)}", f"+51 9{r(10,99)} {r(100,999)} {r(100,999)}"]),
        "AR": random.choice([f"11 {r(1000,9999)}-{r(1000,9999)}", f"+54 9 11 {r(1000,9999)}-{r(1000,9999)}"]),
        "CO": random.choice([f"3{r(10,20)} {r(100,999)} {r(1000,9999)}", f"+57 3{r(10,20)} {r(100,999)} {r(1000,9999)}"]),
        "US": random.choice([f"({r(201,989)}) {r(200,999)}-{r(1000,9999)}", f"+1 {r(201,989)} {r(200,999)} {r(1000,9999)}", f"{r(201,989)}-{r(200,999)}-{r(1000,9999)}"]),
    }[country]


def addr_es():
    return random.choice([
        f"Calle {random.choice(['Alcalá', 'Mayor', 'del Carmen', 'San Bernardo'])} {random.randint(1, 250)}, {random.randint(1, 9)}º {random.choice('ABCD')}",
        f"Avenida {random.choice(['Libertador', 'Insurgentes Sur', 'Pedro de Valdivia', 'Arequipa'])} {random.randint(100, 4999)}",
        f"Av. {random.choice(['Corrientes', 'Providencia', 'Javier Prado'])} {random.randint(100, 4999)}, depto {random.randint(1, 30)}{random.choice(['', 'B'])}",
        f"Jr. {random.choice(['Junín', 'Ucayali', 'Lampa'])} {random.randint(100, 999)}",
        f"Carrera {random.randint(1, 99)} # {random.randint(1, 150)}-{random.randint(1, 99)}",
        f"Paseo de la {random.choice(['Castellana', 'Reforma'])} {random.randint(1, 300)}",
    ])


def addr_en():
    return random.choice([
        f"{random.randint(1, 999)} {random.choice(['Elm', 'Maple', 'Harbour', 'Queens', 'Station'])} {random.choice(['Street', 'Road', 'Avenue', 'Lane', 'Drive'])}",
        f"{random.randint(1, 99)} {random.choice(['Oakfield', 'Willow', 'Church'])} Road, {random.choice(['Leeds', 'Bristol', 'Cardiff'])} {random.choice(['LS6 2AB', 'BS8 1QT', 'CF10 3NP'])}",
        f"{random.randint(100, 9999)} {random.choice(['Sunset', 'Lakeview', 'Pine'])} Blvd, {random.choice(['Austin', 'Denver'])}, {random.choice(['TX 78701', 'CO 80202'])}",
    ])


def order():
    return random.choice([f"{random.randint(10_000_000, 99_999_999)}", f"#{random.randint(100000, 999999)}",
                          f"MX-{random.randint(1_000_000, 9_999_999)}", f"{random.randint(1000, 9999)}-{random.randint(10000, 99999)}"])


def amount():
    return random.choice([f"{random.randint(10, 999)},{random.randint(10, 99)} €", f"${random.randint(1, 999)}.{random.randint(100, 999)}",
                          f"USD {random.randint(10, 999)}", f"S/ {random.randint(10, 999)}.{random.randint(10, 99)}", f"£{random.randint(10, 300)}"])


def date():
    return random.choice([f"{random.randint(1, 28)}/{random.randint(1, 12):02d}/2025", f"{random.randint(1, 28)}-{random.randint(1, 12):02d}-2025",
                          f"el {random.randint(1, 28)} de marzo", "2025-10-14"])


# (language, template). Slots in {braces}; slots starting with "p_" are personal data.
T = [
    ("es", "Me atendió {p_name} y fue muy amable. Mi pedido {order} llegó el {date}."),
    ("es", "Soy {p_name}, DNI {p_dni}. Me cobraron {amount} dos veces en la factura de octubre."),
    ("es", "Pueden llamarme al {p_phone_ES} para coordinar la instalación? Pedido {order}."),
    ("es", "Mi correo es {p_email}, nunca me llegó la boleta del pedido {order}."),
    ("es", "Cliente {p_name}, RUT {p_rut}, reclama cobro de {amount} no reconocido. Se abre caso {order}."),
    ("es", "El repartidor dejó el paquete en {p_addr_es} pero yo vivo en otro número. Tracking {order}."),
    ("es", "Hice una transferencia desde mi cuenta {p_iban} el {date} y no aparece el pago."),
    ("es", "La tarjeta {p_card} fue rechazada en la web aunque tengo saldo. Monto {amount}."),
    ("es", "Mi NIE es {p_nie} y no me dejan registrarme en la app, dice documento inválido."),
    ("es", "Titular {p_name}, CURP {p_curp}, solicita portabilidad. Contacto {p_phone_MX}."),
    ("es", "Brasileña residente, CPF {p_cpf}, quiero saber por qué me cobraron {amount} de comisión."),
    ("es", "Excelente atención de {first} en la sucursal, me resolvió todo en 10 minutos."),
    ("es", "Llevo desde el {date} esperando al técnico, folio {order}. Mi cel {p_phone_CL}."),
    ("es", "Buenas tardes, escribo por el pedido {order} de {amount}. Saludos, {p_name}"),
    ("es", "Necesito que me devuelvan {amount}. Dirección de facturación: {p_addr_es}. Teléfono {p_phone_PE}."),
    ("es", "El vuelo {order} salió con 3 horas de retraso el {date}. Nadie nos informó nada."),
    ("es", "Que alguien me llame al {p_phone_AR}, ya mandé tres mails a {p_email} y nada."),
    ("es", "Atentamente,\n{p_name}\n{p_phone_CO}"),
    ("es", "La asesora {p_name} me explicó todo con paciencia. El plan de {amount} al mes me conviene."),
    ("es", "Compré el {date} por {amount} y el producto vino roto. Orden {order}."),
    ("es", "Mi nombre es {p_name} y mi DNI es {p_dni}, quiero dar de baja la línea {p_phone_ES}."),
    ("es", "Gracias a {first} por la paciencia, me ayudó con la clave de la app."),
    ("es", "Entregar en {p_addr_es}, preguntar por {p_name}."),
    ("es", "Reserva {order} para el {date}, 2 adultos, total {amount}."),
    ("en", "My name is {p_name_en} and I was charged {amount} twice on {date}. Order {order}."),
    ("en", "Please call me on {p_phone_US} about the refund for order {order}."),
    ("en", "Send the replacement to {p_addr_en}, the first one never arrived."),
    ("en", "My email is {p_email_en}, I still have not received the invoice for {amount}."),
    ("en", "The agent, {first}, was brilliant and sorted my account in minutes."),
    ("en", "Card {p_card} declined at checkout even though the bank says it's fine."),
    ("en", "Regards,\n{p_name_en}\n{p_phone_US}"),
    ("en", "Booking {order} on {date}: the room was dirty and nobody answered at reception."),
    ("en", "Account holder {p_name_en}, SSN on file ends in 4421. Please update my address to {p_addr_en}."),
    ("en", "Flight {order} delayed again, I paid {amount} for a hotel. Thanks for nothing."),
    # Harder cases: names without a cue or a common given name, unusual layouts, look-alikes.
    ("es", "Quiero felicitar a {p_name} de la sucursal centro, un siete."),
    ("es", "{p_name} nos atendió de maravilla en la caja 3."),
    ("es", "Mi número es el {p_phone_ES}, llamen después de las 18:00."),
    ("es", "El equipo con IMEI {imei} sigue bloqueado, plan de 600 Mb por {amount}."),
    ("es", "La línea 5 del metro iba llena, 10/10 de incomodidad. Llegué a las 9:45."),
    ("es", "Envíenlo a {p_addr_es}, gracias. Código postal {postal}."),
    ("en", "Spoke to {p_name_en} on the phone yesterday, very helpful."),
    ("en", "Contact: {p_email_en} / {p_phone_US}"),
    ("en", "Invoice INV-{order} for {amount} was paid on {date}, reference {order}."),
]


def fill(lang, template):
    pii = []
    kinds = []
    def slot(m):
        key = m.group(1)
        if key == "order":
            return order()
        if key == "amount":
            return amount()
        if key == "date":
            return date()
        if key == "imei":
            return luhn_complete("35", 15)
        if key == "postal":
            return str(random.randint(10000, 52999))
        if key == "first":
            return random.choice(FIRST_ES if lang == "es" else FIRST_EN)
        kind = key[2:]
        if kind == "name":
            v = name_es()
            k = "name"
        elif kind == "name_en":
            v = name_en(); k = "name"
        elif kind in ("email", "email_en"):
            v = email(name_es() if kind == "email" else name_en()); k = "email"
        elif kind == "dni":
            v = dni(); k = "national_id"
        elif kind == "nie":
            v = nie(); k = "national_id"
        elif kind == "rut":
            v = rut(); k = "national_id"
        elif kind == "cpf":
            v = cpf(); k = "national_id"
        elif kind == "curp":
            v = curp(); k = "national_id"
        elif kind == "card":
            v = card(); k = "card"
        elif kind == "iban":
            v = iban(); k = "iban"
        elif kind == "addr_es":
            v = addr_es(); k = "address"
        elif kind == "addr_en":
            v = addr_en(); k = "address"
        elif kind.startswith("phone_"):
            v = phone(kind[6:]); k = "phone"
        else:
            raise KeyError(key)
        pii.append(v)
        kinds.append(k)
        return v
    import re
    text = re.sub(r"\{(\w+)\}", slot, template)
    return {"text": text, "lang": lang, "pii": pii, "kinds": kinds, "source": "fake:make_redaction_set.py"}


rows = []
for rep in range(5):
    for lang, t in T:
        rows.append(fill(lang, t))
with open("crates/escucha-text/tests/data/redaction_fake.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), "rows,", sum(len(r["pii"]) for r in rows), "items")
