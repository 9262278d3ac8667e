#pragma once
/* The serving process's sysinfo(2) listener: one thread polling the
 * seccomp listener fd of every container (taken from the launchers'
 * registrations, sysinfo-notify.h) and answering with curate_sysinfo(). */
struct curate;
struct sysinfo_listener;

/* Start the thread: first answer what a dead serving process had received
 * and not answered, then serve. 0 or -errno. */
int sysinfo_listener_start(struct curate *c, struct sysinfo_listener **ret);
/* Stop it once the notification it is answering, if any, is answered. */
void sysinfo_listener_stop(struct sysinfo_listener *l);
