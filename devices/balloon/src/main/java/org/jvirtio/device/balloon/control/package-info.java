/**
 * How the host steers a virtio-balloon device while its guest runs: the target size, the size the
 * driver reports, the guest's memory statistics and free page hint runs
 * ({@link org.jvirtio.device.balloon.control.BalloonControl}). The device registers it as a service
 * next to its {@code VirtioDevice}, for the shell, JMX or a memory manager of your own.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.device.balloon.control;
