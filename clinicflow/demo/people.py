"""Made-up people for the demo clinic: Russian names, Russian mobile numbers, reserved e-mail domains."""

from random import Random

from django.core.exceptions import ValidationError

from clinicflow.patients.phones import normalize_phone

MALE_NAMES = ["Aleksandr", "Dmitry", "Maksim", "Sergey", "Andrey", "Aleksey", "Artyom", "Ilya", "Kirill",
              "Mikhail", "Nikita", "Matvey", "Roman", "Egor", "Ivan", "Pavel", "Vladimir", "Denis", "Timur",
              "Yury", "Konstantin", "Oleg", "Viktor", "Anton", "Grigory", "Stanislav", "Vadim", "Fyodor"]
FEMALE_NAMES = ["Anastasia", "Maria", "Anna", "Victoria", "Ekaterina", "Natalia", "Elena", "Olga", "Daria",
                "Polina", "Alina", "Ksenia", "Tatiana", "Irina", "Svetlana", "Yulia", "Sofia", "Valeria",
                "Marina", "Veronika", "Alyona", "Lyudmila", "Galina", "Kristina", "Vera", "Nadezhda"]
# Male forms; feminine forms are derived the Russian way (Ivanov -> Ivanova, Lisitsky -> Lisitskaya).
SURNAMES = ["Ivanov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev", "Petrov", "Sokolov", "Mikhailov",
            "Novikov", "Fyodorov", "Morozov", "Volkov", "Alekseev", "Lebedev", "Semyonov", "Egorov", "Pavlov",
            "Kozlov", "Stepanov", "Nikolaev", "Orlov", "Andreev", "Makarov", "Nikitin", "Zakharov", "Zaitsev",
            "Soloviev", "Borisov", "Yakovlev", "Grigoriev", "Romanov", "Vorobyov", "Sergeev", "Kuzmin",
            "Frolov", "Aleksandrov", "Dmitriev", "Korolev", "Gusev", "Kiselev", "Ilyin", "Maksimov", "Polyakov",
            "Sorokin", "Vinogradov", "Kovalev", "Belov", "Medvedev", "Antonov", "Tarasov", "Zhukov", "Baranov",
            "Filippov", "Komarov", "Davydov", "Belyaev", "Gerasimov", "Bogdanov", "Osipov", "Sidorov",
            "Matveev", "Titov", "Markov", "Mironov", "Krylov", "Kulikov", "Karpov", "Vlasov", "Melnikov",
            "Denisov", "Gavrilov", "Tikhonov", "Kazakov", "Afanasiev", "Danilov", "Savelyev", "Timofeev",
            "Fomin", "Chernov", "Abramov", "Martynov", "Efimov", "Fedotov", "Shcherbakov", "Nazarov", "Kalinin",
            "Isaev", "Chernyshev", "Bykov", "Maslov", "Rodionov", "Konovalov", "Lazarev", "Voronin", "Klimov",
            "Filatov", "Ponomarev", "Golubev", "Kudryavtsev", "Prokhorov", "Naumov", "Potapov", "Zhuravlev",
            "Ovchinnikov", "Trofimov", "Leonov", "Sobolev", "Ermakov", "Kolesnikov", "Goncharov", "Emelyanov",
            "Nikiforov", "Grachev", "Kotov", "Grishin", "Efremov", "Arkhipov", "Gromov", "Kirillov", "Malyshev",
            "Panov", "Moiseev", "Rumyantsev", "Akimov", "Kondratiev", "Biryukov", "Gorbunov", "Anisimov",
            "Eremin", "Tikhomirov", "Galkin", "Lukyanov", "Mikheev", "Skvortsov", "Yudin", "Belousov",
            "Nesterov", "Simonov", "Prokofiev", "Kharitonov", "Knyazev", "Tsvetkov", "Levin", "Mitrofanov",
            "Voronov", "Aksyonov", "Sofronov", "Maltsev", "Loginov", "Gorshkov", "Savin", "Krasnov", "Mayorov",
            "Demidov", "Eliseev", "Rybakov", "Safonov", "Plotnikov", "Demin", "Khokhlov", "Fadeev", "Molchanov",
            "Ignatov", "Litvinov", "Ershov", "Ushakov", "Dementiev", "Ryabov", "Mukhin", "Kalashnikov",
            "Lisitsky", "Zhdanov", "Sharapov", "Kravchenko", "Shevchenko", "Bondarenko", "Dolgoruky"]
# Prefixes of the big Russian mobile operators (MTS, MegaFon, Beeline, Tele2).
MOBILE_PREFIXES = ["900", "901", "902", "903", "904", "905", "906", "908", "909", "910", "911", "912", "913",
                   "914", "915", "916", "917", "918", "919", "920", "921", "922", "923", "925", "926", "927",
                   "928", "929", "930", "931", "937", "950", "951", "952", "953", "960", "961", "962", "963",
                   "964", "965", "977", "978", "980", "981", "982", "983", "985", "986", "987", "988", "989",
                   "991", "992", "993", "995", "996", "999"]
# Reserved for documentation (RFC 2606), so a demo database can never e-mail a real person.
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]


def feminine(surname: str) -> str:
    if surname.endswith(("ov", "ev", "in")):
        return surname + "a"
    if surname.endswith("ky"):
        return surname[:-1] + "aya"
    return surname  # -enko and the like do not change


def person_name(rng: Random) -> tuple[str, str, bool]:
    """(first name, surname, is_female)."""
    if rng.random() < 0.58:  # women contact clinics more often, also on behalf of their families
        return rng.choice(FEMALE_NAMES), feminine(rng.choice(SURNAMES)), True
    return rng.choice(MALE_NAMES), rng.choice(SURNAMES), False


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


def email_address(rng: Random, first_name: str, surname: str, birth_year: int) -> str:
    local = rng.choice([f"{first_name}.{surname}", f"{first_name[0]}.{surname}{birth_year % 100:02d}",
                        f"{surname}{birth_year}", f"{first_name}{rng.randrange(10, 999)}"])
    return f"{local.lower()}@{rng.choice(EMAIL_DOMAINS)}"
