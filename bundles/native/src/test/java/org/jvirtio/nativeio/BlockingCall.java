package org.jvirtio.nativeio;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A call run on its own thread, and a way to know it has reached the blocking native call: tests that
 * close or wake something "from another thread" must act after the call blocked, not before, or they test
 * nothing (and flake on a slow machine).
 */
final class BlockingCall<T> {

    private final FutureTask<T> task;
    private final Thread thread;

    private BlockingCall(Callable<T> call, String name) {
        this.task = new FutureTask<>(call);
        this.thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    static <T> BlockingCall<T> start(String name, Callable<T> call) {
        return new BlockingCall<>(call, name);
    }

    /** Waits until the thread's top frame is the native libc method {@code function}. */
    BlockingCall<T> awaitBlockedIn(String function) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            StackTraceElement[] stack = thread.getStackTrace();
            if (stack.length > 0 && stack[0].isNativeMethod() && stack[0].getMethodName().equals(function)) {
                Thread.sleep(20); // from the JNI frame into the system call itself
                return this;
            }
            if (task.isDone()) {
                throw new AssertionError(thread.getName() + " ended before blocking in " + function);
            }
            Thread.sleep(5);
        }
        throw new AssertionError(thread.getName() + " never blocked in " + function);
    }

    boolean isDone() {
        return task.isDone();
    }

    T get() throws InterruptedException, ExecutionException, TimeoutException {
        return task.get(10, TimeUnit.SECONDS);
    }
}
