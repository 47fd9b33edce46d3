"""A throwaway PostgreSQL server for tests: Debian's ``postgresql`` binaries, a cluster in a
temporary folder, a loopback port and a Unix socket there, stopped at the end.

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user (the
package creates it) or ``nobody``, owning the folder."""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "vaesweep"


def pg_binary(name: str) -> str | None:
    """``name`` on PATH, else in Debian's ``/usr/lib/postgresql/<version>/bin`` (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[-3]))
    return versions[-1] if versions else None


def missing() -> str | None:
    """Why no PostgreSQL server can be started here, or None."""
    if not all(pg_binary(n) for n in ("initdb", "pg_ctl", "createdb")):
        return "PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install -e '.[postgres]')"
    return None


def _runner() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


@contextlib.contextmanager
def postgres_server(port: int, database: str = "mlflow"):
    """Start a PostgreSQL cluster on 127.0.0.1:``port``; yields its SQLAlchemy URI."""
    runner = _runner()
    # Not under pytest's tmp folder: it is private to root, and the server runs as another user.
    root = Path(tempfile.mkdtemp(prefix="vaesweep-pg-"))
    if runner:
        user = pwd.getpwnam(runner[2])
        os.chown(root, user.pw_uid, user.pw_gid)
    data, log = root / "data", root / "server.log"

    def run(*argv):
        done = subprocess.run([*runner, *argv], capture_output=True, text=True, timeout=120, cwd=root)
        if done.returncode:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}"
                               + (f"\n{log.read_text()[-1000:]}" if log.exists() else ""))

    try:
        run(pg_binary("initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"
        run(pg_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
        try:
            run(pg_binary("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, database)
            yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"
        finally:
            run(pg_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
