/**
 * Linux system calls the platform needs, as owned Java objects: file descriptors, memfd and mmap
 * mappings (the backing of guest memory), eventfds (kicks and interrupts), epoll, Unix stream sockets
 * that pass descriptors (vhost-user), and TAP interfaces (the host side of virtio-net). JNA does the
 * calls; no JNA type appears here, so bundles that use this package need not import it, and this is the
 * only bundle that touches native code.
 *
 * <p>Conventions: every object that holds a descriptor or a mapping releases it exactly once, on the
 * first {@code close()}; using it afterwards throws {@link java.lang.IllegalStateException}; a failed
 * call throws {@link org.jvirtio.nativeio.NativeException} naming the call and its errno. Linux x86-64.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package org.jvirtio.nativeio;
