/* view_config.h - the autoscaler view's settings, read once from the environment at startup. */
#ifndef VIEW_CONFIG_H
#define VIEW_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct view_config {
	char bind_address[64];
	int server_port;
	int kube_timeout_ms; /* whole call, connecting included */
	int poll_ms;
	int idle_s; /* read the API only while somebody asked this recently */
	char hpa_name[254];
	char pod_selector[512];
	int log_level; /* enum log_level */
	int drain_s;
	char sa_dir[256];
	char local_pid_file[256];
	char local_backend_url[256];
	/* Derived */
	int cluster;        /* KUBERNETES_SERVICE_HOST is set */
	char api_url[300];  /* https://host:port */
	char namespace[64]; /* from sa_dir/namespace (cluster), "local" otherwise */
	char hostname[256];
};

/*
 * Fill cfg from a getenv-like lookup (NULL: the process environment). In cluster mode the
 * namespace file is read from sa_dir. On an invalid value returns -1 and writes a message
 * naming the variable into err.
 */
int view_config_load(struct view_config *cfg, const char *(*lookup)(const char *name), char *err,
                     size_t errlen);

/* Every variable with its default and meaning, one per line, for --help. */
void view_config_print_help(FILE *out);

#endif
