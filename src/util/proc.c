/* Child processes in their own process group (Hardhat nodes, agents,
 * browsers), stopped as a group so nothing they started is left behind. */
#include "catena/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs in the child between fork and exec: async-signal-safe calls only.
 * On failure it reports errno through err_fd and exits. */
static void child_exec(const ct_proc_opts *o, char *const envp[], int log_fd, int err_fd,
                       pid_t parent)
{
    sigset_t none;
    int null_fd, e;

    setpgid(0, 0);
    if (!o->outlive_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the parent died before prctl took effect */
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0)
        dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
    }
    if (o->cwd == NULL || chdir(o->cwd) == 0)
        execvpe(o->argv[0], o->argv, envp);
    e = errno;
    if (write(err_fd, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

/* The environment of the child: ours with extra ("NAME=value") added,
 * an entry of extra replacing ours of the same name.
 * Returns: a malloc'd array of borrowed strings, or NULL (out of memory). */
static char **child_env(char *const *extra)
{
    size_t n = 0, k = 0, n_extra = 0;
    char **env;

    while (environ[n] != NULL)
        n++;
    while (extra != NULL && extra[n_extra] != NULL)
        n_extra++;
    if ((env = calloc(n + n_extra + 1, sizeof(*env))) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < n_extra && !replaced; j++)
            replaced = strncmp(extra[j], environ[i], len) == 0;
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < n_extra; j++)
        env[k++] = extra[j];
    return env;
}

int ct_proc_spawn(ct_proc *out, char *const argv[], const char *cwd, const char *log_path)
{
    ct_proc_opts o = {.argv = argv, .cwd = cwd, .log_path = log_path};

    return ct_proc_spawn_opts(out, &o);
}

int ct_proc_spawn_opts(ct_proc *out, const ct_proc_opts *o)
{
    int pipefd[2], log_fd = -1, child_errno = 0;
    pid_t parent = getpid(), pid;
    char **envp;
    ssize_t n;

    out->pid = 0;
    out->status = 0;
    if ((envp = child_env(o->env)) == NULL)
        return ct_error_set(CT_ENOMEM, "spawn: out of memory");
    if (o->log_path != NULL) {
        log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (log_fd < 0) {
            free(envp);
            return ct_error_set(CT_EIO, "cannot open log %s: %s", o->log_path, strerror(errno));
        }
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        int e = errno;
        if (log_fd >= 0)
            close(log_fd);
        free(envp);
        return ct_error_set(CT_EIO, "pipe: %s", strerror(e));
    }
    pid = fork();
    if (pid == 0)
        child_exec(o, envp, log_fd, pipefd[1], parent);
    free(envp);
    close(pipefd[1]);
    if (log_fd >= 0)
        close(log_fd);
    if (pid < 0) {
        close(pipefd[0]);
        return ct_error_set(CT_EIO, "fork: %s", strerror(errno));
    }
    /* Also set the group from the parent, so a kill right after return
     * reaches the group even if the child has not run yet. */
    setpgid(pid, pid);
    do {
        n = read(pipefd[0], &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n > 0) {
        waitpid(pid, NULL, 0);
        return ct_error_set(CT_EIO, "cannot start %s%s%s: %s", o->argv[0], o->cwd ? " in " : "",
                            o->cwd ? o->cwd : "", strerror(child_errno));
    }
    out->pid = pid;
    return 0;
}

/* Returns true if the leader has exited; does not reap it, so its pid (and
 * so the group id) cannot be reused while we still signal the group. */
static bool leader_exited(const ct_proc *p)
{
    siginfo_t info;

    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
        return errno == ECHILD;
    return info.si_pid == p->pid;
}

bool ct_proc_alive(ct_proc *p)
{
    return p->pid > 0 && !leader_exited(p);
}

void ct_proc_signal(const ct_proc *p, int sig)
{
    if (p->pid > 0)
        kill(-p->pid, sig);
}

int ct_proc_stop(ct_proc *p, int grace_ms)
{
    int64_t deadline;
    int status = 0;

    if (p->pid <= 0)
        return 0;
    kill(-p->pid, SIGTERM);
    deadline = ct_time_mono_ms() + grace_ms;
    while (!leader_exited(p) && ct_time_mono_ms() < deadline)
        ct_sleep_ms(20);
    /* Whatever is left of the group (the leader, or children that ignored
     * SIGTERM) is killed while the leader's pid is still ours. */
    kill(-p->pid, SIGKILL);
    while (waitpid(p->pid, &status, 0) < 0) {
        if (errno == ECHILD)
            break;
        if (errno != EINTR) {
            p->pid = 0;
            return ct_error_set(CT_EIO, "waitpid: %s", strerror(errno));
        }
    }
    p->status = status;
    p->pid = 0;
    return 0;
}
