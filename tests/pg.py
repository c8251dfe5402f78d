"""A throwaway PostgreSQL on loopback, for tests and bench/ (SPEC §7: several daemons share one database).

Debian's server binaries (`apt-get install -y postgresql`) live in
/usr/lib/postgresql/<version>/bin and refuse to run as root, so the cluster
is created and run as the `postgres` user in a temp dir it owns, on a free
port, with fsync off: the data is thrown away, only the concurrency is real.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from tests.servers import HOST, free_port

INSTALL_HINT = "PostgreSQL is not installed: run `apt-get install -y postgresql`."


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL server bin dir, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


class Postgres:
    """One PostgreSQL cluster in its own temp dir; `url` is a SQLAlchemy URL for psycopg 3."""

    def __init__(self, *, database: str = "mailbot") -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError(INSTALL_HINT)
        self.bin = bindir
        self.port = free_port()
        self.database = database
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self._user = pwd.getpwnam("postgres")
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{self.database}"

    def _as_postgres(self, *cmd: str) -> list[str]:
        # runuser needs no password and keeps our environment minimal.
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)

    def start(self, timeout: float = 30.0) -> None:
        """initdb (first time), start the server, create the database; returns when it accepts connections."""
        if self._proc is not None and self._proc.poll() is None:
            return
        if not self.data.exists():
            self.data.mkdir()
            os.chown(self.data, self._user.pw_uid, self._user.pw_gid)
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
            subprocess.run(
                self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
                check=True, capture_output=True,
            )  # fmt: skip
        self._log = (self.root / "postgres.log").open("ab")
        self._proc = subprocess.Popen(
            self._as_postgres(
                str(self.bin / "postgres"), "-D", str(self.data), "-h", HOST, "-p", str(self.port),
                "-k", str(self.root), "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=100",
            ),
            stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited at start:\n{self.log()}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", HOST, "-p", str(self.port)], capture_output=True
            )
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"postgres not ready within {timeout} s:\n{self.log()}")
        self.create_database(self.database)

    def create_database(self, name: str) -> str:
        """Create database `name` (if missing) and return its URL."""
        import psycopg

        with psycopg.connect(
            host=HOST, port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as c:
            exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{name}"

    def stop(self) -> None:
        """Fast shutdown (SIGINT); SIGKILL the group if it lingers."""
        proc, self._proc = self._proc, None
        if self._log is not None:
            self._log.close()
            self._log = None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def cleanup(self) -> None:
        """Stop and delete the cluster."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no postgres.log)"
