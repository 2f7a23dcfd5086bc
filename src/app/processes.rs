//! The process table's view-model: filter, sort, and a selection pinned to a
//! pid, so a list that re-sorts every second does not move the cursor to a
//! different process under the operator's hand.

use crate::model::metrics::ProcessStat;

/// What the process table is sorted by (always descending: biggest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessSort {
    /// CPU percent.
    #[default]
    Cpu,
    /// Resident memory.
    Memory,
}

impl ProcessSort {
    /// The column title it sorts.
    pub fn label(self) -> &'static str {
        match self {
            ProcessSort::Cpu => "CPU",
            ProcessSort::Memory => "memory",
        }
    }
}

/// Filter, order and selection of the process table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessList {
    /// Sort key.
    pub sort: ProcessSort,
    /// Case-insensitive substring of the name, or a pid prefix.
    pub filter: String,
    /// Indices into the sample's process list, in display order.
    pub rows: Vec<usize>,
    /// Selected row in `rows`.
    pub selected: usize,
    /// The pid the selection follows.
    pub selected_pid: Option<u32>,
    /// Whether kernel threads are listed.
    pub show_kernel_threads: bool,
}

impl ProcessList {
    /// Recompute rows after new data, a new sort or a new filter.
    pub fn rebuild(&mut self, all: &[ProcessStat]) {
        let needle = self.filter.to_lowercase();
        self.rows = (0..all.len())
            .filter(|&i| self.show_kernel_threads || !all[i].kernel_thread)
            .filter(|&i| {
                needle.is_empty()
                    || all[i].name.to_lowercase().contains(&needle)
                    || all[i].pid.to_string().starts_with(&needle)
            })
            .collect();
        // Whole percents: the many near-idle processes flicker between 0 and
        // 1 % each second; ranking on that noise would reshuffle the table
        // (and resend it to the terminal) every refresh.
        let key = |p: &ProcessStat| match self.sort {
            ProcessSort::Cpu => p.cpu.round() as u64,
            ProcessSort::Memory => p.memory,
        };
        self.rows.sort_by(|&a, &b| key(&all[b]).cmp(&key(&all[a])).then(all[a].pid.cmp(&all[b].pid)));
        // Follow the pid; if it has gone, stay at the same height in the list.
        // Nothing is selected until the operator moves: a wall screen shows
        // no cursor hopping after whichever process was first.
        let Some(pid) = self.selected_pid else { return };
        if let Some(pos) = self.rows.iter().position(|&i| all[i].pid == pid) {
            self.selected = pos;
        } else {
            self.selected = self.selected.min(self.rows.len().saturating_sub(1));
            self.selected_pid = self.rows.get(self.selected).map(|&i| all[i].pid);
        }
    }

    /// The selected row, if the operator has selected one.
    pub fn selected_row(&self) -> Option<usize> {
        self.selected_pid.map(|_| self.selected)
    }

    /// Move the selection by `delta` rows, clamped to the list.
    pub fn move_by(&mut self, delta: isize, all: &[ProcessStat]) {
        if self.rows.is_empty() {
            return;
        }
        let last = self.rows.len() - 1;
        // The first move selects the top row rather than moving past it.
        let from = if self.selected_pid.is_none() { 0 } else { self.selected.saturating_add_signed(delta) };
        self.selected = from.min(last);
        self.selected_pid = self.rows.get(self.selected).map(|&i| all[i].pid);
    }

    /// Jump to the first (`false`) or last (`true`) row.
    pub fn jump(&mut self, to_end: bool, all: &[ProcessStat]) {
        let target = if to_end { self.rows.len().saturating_sub(1) } else { 0 };
        self.selected = target;
        self.selected_pid = self.rows.get(target).map(|&i| all[i].pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u32, name: &str, cpu: f32, memory: u64) -> ProcessStat {
        ProcessStat { pid, name: name.into(), cpu, memory, kernel_thread: false, start_time: 1 }
    }

    #[test]
    fn kernel_threads_are_hidden_unless_asked_for() {
        let mut all = vec![p(1, "init", 0.0, 10), p(2, "kthreadd", 0.0, 0)];
        all[1].kernel_thread = true;
        let mut l = ProcessList::default();
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["init"]);
        l.show_kernel_threads = true;
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["init", "kthreadd"]);
    }

    fn names(list: &ProcessList, all: &[ProcessStat]) -> Vec<String> {
        list.rows.iter().map(|&i| all[i].name.clone()).collect()
    }

    #[test]
    fn sorts_descending_and_filters() {
        let all = vec![p(1, "init", 0.1, 10), p(2, "postgres", 50.0, 500), p(3, "nginx", 5.0, 900)];
        let mut l = ProcessList::default();
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["postgres", "nginx", "init"]);
        l.sort = ProcessSort::Memory;
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["nginx", "postgres", "init"]);
        l.filter = "GRES".into();
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["postgres"]);
        l.filter = "3".into();
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["nginx"]);
    }

    #[test]
    fn selection_follows_the_pid_through_a_resort() {
        let mut all = vec![p(1, "a", 10.0, 0), p(2, "b", 20.0, 0), p(3, "c", 30.0, 0)];
        let mut l = ProcessList::default();
        l.rebuild(&all);
        assert_eq!(l.selected_row(), None, "nothing selected before the operator moves");
        l.move_by(1, &all); // first move: the top row
        assert_eq!(l.selected_pid, Some(3));
        l.move_by(2, &all); // c, b, [a]
        assert_eq!(l.selected_pid, Some(1));
        all[0].cpu = 99.0; // a jumps to the top
        l.rebuild(&all);
        assert_eq!((l.selected, l.selected_pid), (0, Some(1)));
        // When the process exits the cursor stays where it was.
        all.remove(0);
        l.rebuild(&all);
        assert_eq!(l.selected, 0);
        assert_eq!(l.selected_pid, Some(3));
    }

    #[test]
    fn near_idle_processes_keep_their_order() {
        let mut all = vec![p(10, "a", 0.4, 0), p(11, "b", 0.9, 0), p(12, "c", 7.0, 0)];
        let mut l = ProcessList::default();
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["c", "b", "a"]);
        (all[0].cpu, all[1].cpu) = (1.2, 0.6); // a and b swap by noise
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["c", "a", "b"], "1 % outranks 0 %");
        (all[0].cpu, all[1].cpu) = (0.2, 0.3);
        l.rebuild(&all);
        assert_eq!(names(&l, &all), ["c", "a", "b"], "ties keep pid order");
    }

    #[test]
    fn moves_clamp() {
        let all = vec![p(1, "a", 1.0, 0), p(2, "b", 2.0, 0)];
        let mut l = ProcessList::default();
        l.rebuild(&all);
        l.move_by(-5, &all);
        assert_eq!(l.selected_row(), Some(0));
        l.move_by(50, &all);
        assert_eq!(l.selected, 1);
        l.jump(false, &all);
        assert_eq!(l.selected_pid, Some(2));
        let mut empty = ProcessList::default();
        empty.rebuild(&[]);
        empty.move_by(1, &[]);
        empty.jump(true, &[]);
        assert_eq!(empty.selected_pid, None);
    }
}
