package org.jvirtio.distribution;

/** A command line the launcher cannot use; its message is the one line shown to the user (exit code 2). */
public final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
