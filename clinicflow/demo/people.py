"""Made-up people for the demo clinic: Russian names, Russian mobile numbers, reserved e-mail domains.

Names are written the way a Russian front desk keeps them: surname first («Соколова Ольга»), with the
patronymic when the patient gave it (by phone most do, a messenger's display name rarely has one).
"""

from random import Random

from django.core.exceptions import ValidationError

from clinicflow.patients.phones import normalize_phone

# First names by generation: people born before 1980 and since. Frequent names repeat on purpose, so
# the choice follows roughly how common each name is (Rosstat's lists of newborns' names by decade).
MALE_NAMES = {
    "older": ["Александр", "Александр", "Сергей", "Сергей", "Владимир", "Владимир", "Андрей", "Алексей",
              "Николай", "Виктор", "Юрий", "Игорь", "Михаил", "Евгений", "Олег", "Анатолий", "Валерий",
              "Геннадий", "Борис", "Василий", "Пётр", "Вячеслав", "Леонид", "Константин"],
    "younger": ["Александр", "Александр", "Дмитрий", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей",
                "Артём", "Илья", "Кирилл", "Михаил", "Никита", "Иван", "Роман", "Егор", "Павел", "Денис",
                "Антон", "Евгений", "Тимур", "Матвей", "Владислав", "Станислав", "Вадим"],
}
FEMALE_NAMES = {
    "older": ["Елена", "Елена", "Ольга", "Ольга", "Татьяна", "Татьяна", "Наталья", "Наталья", "Ирина",
              "Светлана", "Галина", "Людмила", "Марина", "Надежда", "Любовь", "Валентина", "Нина", "Лариса",
              "Вера", "Тамара", "Оксана", "Юлия"],
    "younger": ["Анастасия", "Анастасия", "Екатерина", "Екатерина", "Мария", "Мария", "Анна", "Дарья",
                "Юлия", "Ксения", "Виктория", "Алина", "Полина", "Кристина", "Елизавета", "Валерия",
                "Софья", "Алёна", "Вероника", "Ольга", "Евгения", "Наталья", "Ирина", "Светлана"],
}
# A father's name and the patronymics it gives: (his name, the son's, the daughter's). Fathers of the
# demo's patients were born from the 1920s to the 1980s, so these are the names of those decades.
FATHERS = [
    ("Александр", "Александрович", "Александровна"), ("Сергей", "Сергеевич", "Сергеевна"),
    ("Владимир", "Владимирович", "Владимировна"), ("Николай", "Николаевич", "Николаевна"),
    ("Андрей", "Андреевич", "Андреевна"), ("Алексей", "Алексеевич", "Алексеевна"),
    ("Виктор", "Викторович", "Викторовна"), ("Юрий", "Юрьевич", "Юрьевна"),
    ("Михаил", "Михайлович", "Михайловна"), ("Игорь", "Игоревич", "Игоревна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"), ("Анатолий", "Анатольевич", "Анатольевна"),
    ("Валерий", "Валерьевич", "Валерьевна"), ("Иван", "Иванович", "Ивановна"),
    ("Василий", "Васильевич", "Васильевна"), ("Пётр", "Петрович", "Петровна"),
    ("Геннадий", "Геннадьевич", "Геннадьевна"), ("Олег", "Олегович", "Олеговна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"), ("Павел", "Павлович", "Павловна"),
    ("Борис", "Борисович", "Борисовна"), ("Григорий", "Григорьевич", "Григорьевна"),
    ("Вячеслав", "Вячеславович", "Вячеславовна"), ("Илья", "Ильич", "Ильинична"),
    ("Никита", "Никитич", "Никитична"), ("Константин", "Константинович", "Константиновна"),
]
# Male forms; the feminine form is derived the Russian way (see `feminine`).
SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
    "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
    "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
    "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов",
    "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин",
    "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов",
    "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов",
    "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов",
    "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков",
    "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев",
    "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов",
    "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов",
    "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев",
    "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин",
    "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев",
    "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов", "Мальцев", "Логинов",
    "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников",
    "Дёмин", "Хохлов", "Фадеев", "Молчанов", "Игнатов", "Литвинов", "Ершов", "Ушаков", "Дементьев",
    "Рябов", "Мухин", "Калашников", "Жданов", "Шарапов", "Островский", "Вишневский", "Лисицкий",
    "Долгорукий", "Толстой", "Полевой", "Кравченко", "Шевченко", "Бондаренко", "Ковальчук", "Мельничук",
    "Черных", "Седых", "Белых",
]
PATRONYMIC_SHARE = 0.6  # of patients whose card has a patronymic
# Prefixes of the big Russian mobile operators (MTS, MegaFon, Beeline, Tele2).
MOBILE_PREFIXES = ["900", "901", "902", "903", "904", "905", "906", "908", "909", "910", "911", "912", "913",
                   "914", "915", "916", "917", "918", "919", "920", "921", "922", "923", "925", "926", "927",
                   "928", "929", "930", "931", "937", "950", "951", "952", "953", "960", "961", "962", "963",
                   "964", "965", "977", "978", "980", "981", "982", "983", "985", "986", "987", "988", "989",
                   "991", "992", "993", "995", "996", "999"]
# Reserved for documentation (RFC 2606), so a demo database can never e-mail a real person.
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
# The Latin spelling people choose for their e-mail address (close to the passport's ICAO spelling).
LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", [
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
    "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


def feminine(surname: str) -> str:
    """The wife's or daughter's form of a male surname: Иванов → Иванова, Лисицкий → Лисицкая."""
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith(("кий", "ой", "ый")):  # -ский, -цкий too
        return surname[:-2] + "ая"
    return surname  # -енко, -ук, -их, -ых, -ич do not change


def person_name(rng: Random, birth_year: int) -> tuple[str, bool]:
    """(full name as the card keeps it, is_female): «Соколова Ольга» or «Петров Иван Сергеевич»."""
    generation = "older" if birth_year < 1980 else "younger"
    female = rng.random() < 0.58  # women contact clinics more often, also on behalf of their families
    first_name = rng.choice((FEMALE_NAMES if female else MALE_NAMES)[generation])
    surname = rng.choice(SURNAMES)
    parts = [feminine(surname) if female else surname, first_name]
    if rng.random() < PATRONYMIC_SHARE:
        _father, son, daughter = rng.choice(FATHERS)
        parts.append(daughter if female else son)
    return " ".join(parts), female


def latin(text: str) -> str:
    """Cyrillic spelled in Latin letters, as people spell their names in e-mail addresses."""
    return "".join(LATIN.get(char, char) for char in text.lower())


def mobile_phone(rng: Random, taken: set[str]) -> str:
    """A new E.164 Russian mobile number, checked by the same normaliser every channel uses."""
    while True:
        raw = f"+7{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"
        try:
            phone = normalize_phone(raw)
        except ValidationError:
            continue  # not every block of every prefix is allocated
        if phone not in taken:
            taken.add(phone)
            return phone


def email_address(rng: Random, full_name: str, birth_year: int) -> str:
    surname, first_name = (latin(part) for part in full_name.split()[:2])
    local = rng.choice([f"{first_name}.{surname}", f"{first_name[0]}.{surname}{birth_year % 100:02d}",
                        f"{surname}{birth_year}", f"{first_name}{rng.randrange(10, 999)}"])
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"
