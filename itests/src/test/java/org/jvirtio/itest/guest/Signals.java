package org.jvirtio.itest.guest;

import com.sun.jna.Library;
import com.sun.jna.Native;

/** {@code kill(2)} for the crash tests: stop, continue, terminate and kill a child process by its id (Linux numbers). */
interface Signals extends Library {
    int SIGKILL = 9;
    int SIGTERM = 15;
    int SIGCONT = 18;
    int SIGSTOP = 19;

    Signals LIBC = Native.load("c", Signals.class);

    int kill(int pid, int signal);
}
