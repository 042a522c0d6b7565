"""A headless LibreOffice driven through its UNO bridge, for test scripts run by a Python that has ``uno``
(Debian's /usr/bin/python3 with python3-uno): one office per script, in its own user profile, ended on exit.

    with office_desktop("rows") as desktop:
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
"""
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def file_url(path):
    return uno.systemPathToFileUrl(os.path.abspath(path))


@contextmanager
def office_desktop(tag, wait=120.0):
    """LibreOffice's Desktop of a fresh headless office (``tag`` names its profile and pipe)."""
    profile = tempfile.mkdtemp(prefix="jixiao-uno-%s-" % tag)
    pipe = "jixiao%s%d" % (tag, os.getpid())
    office = subprocess.Popen(["soffice", "-env:UserInstallation=file://" + profile, "--headless", "--norestore",
                               "--invisible", "--accept=pipe,name=%s;urp;" % pipe],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = None
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx, deadline = None, time.monotonic() + wait
        while ctx is None:
            try:
                ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        yield desktop
    finally:
        if desktop is not None:
            try:
                desktop.terminate()
            except Exception:
                pass
        try:
            office.wait(timeout=60)
        except Exception:
            office.kill()
