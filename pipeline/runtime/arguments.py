"""The command-line options every job shares, and the argparse types of the others."""

import argparse
import ipaddress
import re

from pipeline.runtime.config import is_share


USAGE_ERROR = 2  # argparse's own code for a bad option, used by every job


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line usage error: `<prog>: error: <what> (see <prog> --help)`, exit 2."""

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def job_parser(job: str, description: str, full_refresh: str | None = None) -> argparse.ArgumentParser:
    """The options every job takes, and --full-refresh with this help text when given."""
    parser = ArgumentParser(prog=f"spark-submit.sh {job}", description=description)
    parser.add_argument("--lake", help="lake root: a local folder or any Hadoop URI (default: from the config)")
    parser.add_argument(
        "--conf-env", default="local",
        help="settings file conf/<ENV>.toml (default: local; spark-submit.sh passes cluster for non-local masters)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Spark's INFO logs")
    if full_refresh:
        parser.add_argument("--full-refresh", action="store_true", help=full_refresh)
    return parser


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def ip_address(text: str) -> str:
    """argparse type: an IP address."""
    ipaddress.ip_address(text)  # a ValueError makes argparse report an invalid value
    return text


def duration(text: str) -> float:
    """argparse type of --interval: seconds, as 10, 10s, 2m or 0.5s."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", text.strip())
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive duration such as 10s or 2m, got {text!r}")
    return float(match[1]) * (60 if match[2] == "m" else 1)


LONG = range(-(2**63), 2**63)


def customer_ids(text: str) -> tuple[int, ...]:
    """argparse type of --customer: ids separated by commas, each a whole number
    fitting a 64-bit long as the data contract's ids (51, not "51.0" or "abc")."""
    parts = [part.strip() for part in text.split(",")]
    for part in parts:
        if not part:
            raise argparse.ArgumentTypeError(f"an empty customer id in {text!r}")
        if not re.fullmatch(r"-?[0-9]+", part) or int(part) not in LONG:
            raise argparse.ArgumentTypeError(f"not a customer id (a whole number such as 2101959): {part!r}")
    return tuple(dict.fromkeys(int(part) for part in parts))


def share(text: str) -> float:
    """argparse type of --max-quarantined-share: a number from 0 to 1."""
    value = float(text)  # a ValueError makes argparse report an invalid share value
    if not is_share(value):
        raise ValueError(text)
    return value


def add_share_option(parser) -> None:
    parser.add_argument(
        "--max-quarantined-share", type=share, metavar="SHARE",
        help="stop silver before writing when more than this share of a batch would be quarantined; fail bronze "
        "(after ingesting the good files) when more than this share of 20 or more new files was set aside "
        "(default: from the config)",
    )
